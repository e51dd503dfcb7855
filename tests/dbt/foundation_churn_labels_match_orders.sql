-- Labels recomputed independently from fct_orders: churned <=> no valid order in [T, T + horizon),
-- and eligibility agrees with customer_rfm's frequency. Returns offending rows.
with

labels as (
    select * from {{ ref('churn_labels') }}
),

rfm as (
    select * from {{ ref('customer_rfm') }}
)

select
    labels.customer_id,
    labels.snapshot_date
from labels
inner join rfm
    on
        labels.customer_id = rfm.customer_id
        and labels.snapshot_date = rfm.snapshot_date
where
    labels.is_eligible != (rfm.frequency > 0)
    or (
        labels.churned is not null
        and labels.churned = exists (
            select 1
            from {{ ref('fct_orders') }} as orders
            where
                orders.customer_id = labels.customer_id
                and orders.is_valid_order
                and orders.ordered_at >= labels.snapshot_date
                and orders.ordered_at < labels.horizon_end_date
        )
    )
