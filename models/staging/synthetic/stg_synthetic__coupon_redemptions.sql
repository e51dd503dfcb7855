with

checked as (
    select * from {{ ref('base_synthetic__coupon_redemptions') }}
)

select
    redemption_id,
    customer_id,
    order_id,
    redeemed_at,
    coupon_code,
    discount_amount
from checked
where quarantine_reason is null
