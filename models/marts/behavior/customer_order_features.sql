{#-
    Order-behaviour features at each snapshot T beyond RFM (design section 11: cadence, overdue, trend, breadth),
    all from events strictly before T. Ratios are null when their denominator is zero.
-#}
{{ snapshot_incremental('behaviour') }}
with

pending as (
    {{ pending_snapshots() }}
),

order_windows as (
    -- cadence is computed on the row itself: a self-join on (customer, snapshot) cost a second hash join of
    -- every pending row
    select
        order_windows.*,
        {{ dbt.datediff('order_windows.last_order_at', 'order_windows.snapshot_date', 'day') }} as recency_days,
        case
            when order_windows.lifetime_orders >= 2
                then {{ ratio(
                    dbt.datediff('order_windows.first_order_at', 'order_windows.last_order_at', 'day'),
                    'order_windows.lifetime_orders - 1',
                ) }}
        end as mean_interorder_days,
        pending.inputs_fingerprint as pending_fingerprint
    from {{ ref('int_customer_order_windows') }} as order_windows
    inner join pending on order_windows.snapshot_date = pending.snapshot_date
),

breadth as (
    select breadth.*
    from {{ ref('int_customer_basket_breadth') }} as breadth
    inner join pending on breadth.snapshot_date = pending.snapshot_date
)

select
    order_windows.customer_id,
    order_windows.snapshot_date,
    order_windows.lifetime_orders,
    {{ dbt.datediff('order_windows.first_order_at', 'order_windows.snapshot_date', 'day') }}
        as days_since_first_order,
    order_windows.mean_interorder_days,
    order_windows.recency_days - order_windows.mean_interorder_days as days_overdue,
    {{ ratio('order_windows.recency_days', 'order_windows.mean_interorder_days') }} as overdue_ratio,
    order_windows.orders_30d,
    order_windows.orders_90d,
    order_windows.orders_prior_90d,
    {{ ratio('order_windows.orders_90d + 1', 'order_windows.orders_prior_90d + 1') }} as order_trend_ratio,
    order_windows.amount_90d,
    coalesce(breadth.distinct_categories, 0) as distinct_categories,
    coalesce(breadth.distinct_products, 0) as distinct_products,
    {{ ratio('order_windows.late_deliveries_lookback', 'order_windows.due_deliveries_lookback') }}
        as late_delivery_share,
    {{ ratio('order_windows.cancelled_orders_lookback', 'order_windows.placed_orders_lookback') }}
        as cancellation_rate,
    {{ ratio('order_windows.returned_orders_lookback', 'order_windows.matured_orders_lookback') }} as return_rate,
    {{ ratio('order_windows.discounted_orders_lookback', 'order_windows.orders_lookback') }} as discount_order_share,
    {{ ratio(
        'order_windows.discount_amount_lookback',
        'order_windows.amount_lookback + order_windows.discount_amount_lookback',
    ) }} as discount_amount_share,
    order_windows.pending_fingerprint as inputs_fingerprint
from order_windows
left join breadth
    on {{ same_customer_snapshot('order_windows', 'breadth') }}
