{#-
    Labels at each snapshot T (design section 6): eligible = at least one order in [T - lookback, T) not cancelled
    before T; churned = eligible and no order placed in [T, T + horizon) and not cancelled before T + horizon.
    churned is null when the customer is not eligible or the horizon is not fully observed
    (T + horizon > as_of_date), so it is never guessed.
-#}
{{ snapshot_incremental('labels') }}
with

pending as (
    {{ pending_snapshots('labels') }}
),

customer_snapshots as (
    {{ pending_customer_snapshots(pending='pending') }}
),

order_windows as (
    select
        customer_id,
        snapshot_date,
        orders_lookback
    from {{ ref('int_customer_order_windows') }}
),

spine as (
    select spine.*
    from {{ ref('int_snapshot_spine') }} as spine
    inner join pending on spine.snapshot_date = pending.snapshot_date
),

horizon_orders as (
    select
        orders.customer_id,
        spine.snapshot_date,
        count(*) as orders_in_horizon
    from {{ ref('int_orders') }} as orders
    inner join spine
        on
            orders.ordered_at >= spine.snapshot_date
            and orders.ordered_at < spine.horizon_end_date
    where {{ order_valid_at('orders', 'spine.horizon_end_date') }}
    group by orders.customer_id, spine.snapshot_date
)

select
    customer_snapshots.customer_id,
    customer_snapshots.snapshot_date,
    customer_snapshots.horizon_end_date,
    customer_snapshots.horizon_observed,
    order_windows.orders_lookback > 0 as is_eligible,
    coalesce(horizon_orders.orders_in_horizon, 0) as orders_in_horizon,
    case
        when order_windows.orders_lookback > 0 and customer_snapshots.horizon_observed
            then coalesce(horizon_orders.orders_in_horizon, 0) = 0
    end as churned,
    customer_snapshots.inputs_fingerprint
from customer_snapshots
inner join order_windows
    on {{ same_customer_snapshot('customer_snapshots', 'order_windows') }}
left join horizon_orders
    on {{ same_customer_snapshot('customer_snapshots', 'horizon_orders') }}
