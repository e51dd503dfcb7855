{#-
    One row per order with its final status and when each status change became known (design section 6).
    is_valid_order (completed or returned; cancelled is not) is the final status, for current-state marts and
    outcome measurement. Features at a snapshot T read the status as known at T instead: an order cancelled
    at or after T is still a valid order at T, and a return counts only once returned_at < T
    (macros/order_status_at.sql). Sources without status timestamps: a cancellation counts from the order time,
    a return var('assumed_return_days') days after it.
-#}
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
    case
        when status = 'cancelled' then greatest(coalesce(cancelled_at, ordered_at), ordered_at)
    end as cancelled_at,
    case
        when status = 'returned'
            then greatest(
                coalesce(returned_at, {{ dbt.dateadd('day', var('assumed_return_days'), 'ordered_at') }}),
                ordered_at
            )
    end as returned_at,
    promised_delivery_at,
    delivered_at,
    case
        when delivered_at is not null and promised_delivery_at is not null
            then greatest({{ dbt.datediff('promised_delivery_at', 'delivered_at', 'day') }}, 0)
    end as days_late
from orders
