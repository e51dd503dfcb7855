{#-
    RFM at each snapshot T from orders strictly before T. Scores are quintiles within the snapshot among customers
    with at least one valid order in the lookback window: score = 1 + floor(5 * percent_rank) capped at 5, so tied
    values share a score and 5 is best (most recent, most frequent, highest spend). Customers without an order in
    the lookback window get null scores and the segment 'No Recent Purchase'.
    The ranks hold a whole snapshot in DuckDB's window operator, which does not spill: a full build computes them
    in buckets of whole snapshots (macros/customer_buckets.sql, bucketed on snapshot_date), not all at once.
-#}
{{ snapshot_incremental('behaviour', bucket_on='snapshot_date') }}
-- depends_on: {{ ref('int_customer_snapshots') }} (its pending rows are counted to choose the buckets)
with

order_windows as (
    -- one row per customer signed up before T: the grain (pending_customer_snapshots), not joined again
    select * from {{ ref('int_customer_order_windows') }}
    where {{ in_customer_bucket('snapshot_date') }}
),

pending as (
    select * from ({{ pending_snapshots() }}) as pending
    where {{ in_customer_bucket('snapshot_date') }}
),

customers as (
    select
        customer_id,
        signup_at
    from {{ ref('int_customers') }}
),

segments as (
    select * from {{ ref('rfm_segments') }}
),

rfm_values as (
    select
        order_windows.customer_id,
        order_windows.snapshot_date,
        {{ dbt.datediff('customers.signup_at', 'order_windows.snapshot_date', 'day') }} as tenure_days,
        pending.inputs_fingerprint,
        {{ dbt.datediff('order_windows.last_order_at', 'order_windows.snapshot_date', 'day') }} as recency_days,
        order_windows.orders_lookback as frequency,
        order_windows.amount_lookback as monetary,
        order_windows.amount_lookback / nullif(order_windows.orders_lookback, 0) as avg_order_value
    from order_windows
    inner join pending on order_windows.snapshot_date = pending.snapshot_date
    inner join customers on order_windows.customer_id = customers.customer_id
),

scored as (
    select
        customer_id,
        snapshot_date,
        least(5, 1 + floor(5 * percent_rank() over (partition by snapshot_date order by recency_days desc)))
            as r_score,
        least(5, 1 + floor(5 * percent_rank() over (partition by snapshot_date order by frequency)))
            as f_score,
        least(5, 1 + floor(5 * percent_rank() over (partition by snapshot_date order by monetary)))
            as m_score
    from rfm_values
    where frequency > 0
)

select
    rfm_values.customer_id,
    rfm_values.snapshot_date,
    rfm_values.tenure_days,
    rfm_values.recency_days,
    rfm_values.frequency,
    rfm_values.monetary,
    rfm_values.avg_order_value,
    cast(scored.r_score as integer) as r_score,
    cast(scored.f_score as integer) as f_score,
    cast(scored.m_score as integer) as m_score,
    cast(scored.r_score + scored.f_score + scored.m_score as integer) as rfm_score,
    -- the scores are floor()s (doubles): as integers first, or the cell reads '4.05.03.0' instead of '453'
    cast(cast(scored.r_score as integer) as {{ dbt.type_string() }})
    || cast(cast(scored.f_score as integer) as {{ dbt.type_string() }})
    || cast(cast(scored.m_score as integer) as {{ dbt.type_string() }}) as rfm_cell,
    coalesce(segments.rfm_segment, 'No Recent Purchase') as rfm_segment,
    rfm_values.inputs_fingerprint
from rfm_values
left join scored
    on {{ same_customer_snapshot('rfm_values', 'scored') }}
left join segments
    on
        scored.r_score = segments.r_score
        and scored.f_score = segments.f_score
