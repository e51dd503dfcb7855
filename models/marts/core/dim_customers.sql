with

customers as (
    select * from {{ ref('int_customers') }}
),

order_summary as (
    select
        customer_id,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at,
        count(*) as valid_orders,
        {{ exact_sum('amount') }} as lifetime_amount
    from {{ ref('int_orders') }}
    where is_valid_order
    group by customer_id
)

select
    customers.customer_id,
    customers.signup_at,
    customers.country,
    customers.acquisition_channel,
    order_summary.first_order_at,
    order_summary.last_order_at,
    coalesce(order_summary.valid_orders, 0) as valid_orders,
    coalesce(order_summary.lifetime_amount, 0) as lifetime_amount
from customers
left join order_summary on customers.customer_id = order_summary.customer_id
