-- Frequency and recency recomputed independently from fct_orders with correlated subqueries
-- (only orders strictly before T and not cancelled before T; frequency within [T - lookback_days, T)).
-- Returns offending rows.
with

rfm as (
    select * from {{ ref('customer_rfm') }}
)

select
    rfm.customer_id,
    rfm.snapshot_date
from rfm
where
    rfm.frequency != (
        select count(*)
        from {{ ref('fct_orders') }} as orders
        where
            orders.customer_id = rfm.customer_id
            and (orders.cancelled_at is null or orders.cancelled_at >= rfm.snapshot_date)
            and orders.ordered_at < rfm.snapshot_date
            and orders.ordered_at >= {{ dbt.dateadd('day', -var('lookback_days'), 'rfm.snapshot_date') }}
    )
    or coalesce(rfm.recency_days, -1) != coalesce((
        select {{ dbt.datediff('max(orders.ordered_at)', 'rfm.snapshot_date', 'day') }}
        from {{ ref('fct_orders') }} as orders
        where
            orders.customer_id = rfm.customer_id
            and (orders.cancelled_at is null or orders.cancelled_at >= rfm.snapshot_date)
            and orders.ordered_at < rfm.snapshot_date
    ), -1)
