with

checked as (
    select * from {{ ref('base_synthetic__orders') }}
)

select
    order_id,
    customer_id,
    ordered_at,
    status,
    amount,
    discount_amount,
    promised_delivery_at,
    delivered_at,
    cancelled_at,
    returned_at
from checked
where quarantine_reason is null
