-- A valid order is a placed purchase: completed or returned (returns were still bought); cancelled is not.
with

orders as (
    select * from {{ staging_relation('orders') }}
)

select
    order_id,
    customer_id,
    ordered_at,
    status,
    amount,
    coalesce(discount_amount, 0) as discount_amount,
    status in ('completed', 'returned') as is_valid_order,
    promised_delivery_at,
    delivered_at,
    case
        when delivered_at is not null and promised_delivery_at is not null
            then greatest({{ dbt.datediff('promised_delivery_at', 'delivered_at', 'day') }}, 0)
    end as days_late
from orders
