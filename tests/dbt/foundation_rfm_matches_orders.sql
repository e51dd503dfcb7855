-- Frequency and recency recomputed independently from fct_orders with one join per customer snapshot
-- (only orders strictly before T and not cancelled before T; frequency within [T - lookback_days, T)).
-- A join, not correlated subqueries: Spark does not allow an outer reference in a subquery's select list.
-- Returns offending rows.
with

rfm as (
    select * from {{ built_snapshots(ref('customer_rfm')) }}
),

orders as (
    select
        customer_id,
        ordered_at,
        cancelled_at
    from {{ ref('fct_orders') }}
),

recount as (
    -- an inner join on the customer alone, the time conditions after it: with them in a left join's ON, DuckDB
    -- fell back to a nested-loop join (845 s at 100k customers); customers without orders come back below
    select
        rfm.customer_id,
        rfm.snapshot_date,
        sum(
            case
                when orders.ordered_at >= {{ dbt.dateadd('day', -var('lookback_days'), 'rfm.snapshot_date') }}
                    then 1
                else 0
            end
        ) as frequency,
        max(orders.ordered_at) as last_order_at
    from rfm
    inner join orders
        on rfm.customer_id = orders.customer_id
    where
        rfm.snapshot_date > orders.ordered_at
        and (orders.cancelled_at is null or rfm.snapshot_date <= orders.cancelled_at)
    group by rfm.customer_id, rfm.snapshot_date
)

select
    rfm.customer_id,
    rfm.snapshot_date
from rfm
left join recount
    on {{ same_customer_snapshot('rfm', 'recount') }}
where
    rfm.frequency != coalesce(recount.frequency, 0)
    or coalesce(rfm.recency_days, -1)
    != coalesce({{ dbt.datediff('recount.last_order_at', 'rfm.snapshot_date', 'day') }}, -1)
