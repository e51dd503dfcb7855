{#-
    Labels at each snapshot T (design section 6): eligible = at least one order in [T - lookback, T) not cancelled
    before T; churned = eligible and no order placed in [T, T + horizon) and not cancelled before T + horizon.
    churned is null when the customer is not eligible or the horizon is not fully observed
    (T + horizon > as_of_date), so it is never guessed; orders_in_horizon is null then too (a count of a window that
    is still open). So a snapshot whose horizon is open reads only facts before T (int_snapshot_inputs'
    labels_fingerprint) and a nightly does not rewrite it for the day's new orders; it is recomputed once, when
    its horizon closes.
    The rows are int_customer_order_windows' at the pending snapshots: it holds one row per customer signed up
    before T (pending_customer_snapshots), the labels' grain, so the customer snapshots are not joined again (a
    hash join of 16M rows on both sides at 1M customers).
-#}
{{ snapshot_incremental('labels') }}
-- orders_in_horizon was not null before open horizons left it null (session 52)
{{ config(pre_hook="{{ drop_not_null('orders_in_horizon') }}") }}
with

pending as (
    {{ pending_snapshots('labels') }}
),

spine as (
    select
        spine.snapshot_date,
        spine.horizon_end_date,
        spine.horizon_observed,
        pending.inputs_fingerprint
    from {{ ref('int_snapshot_spine') }} as spine
    inner join pending on spine.snapshot_date = pending.snapshot_date
),

order_windows as (
    select
        customer_id,
        snapshot_date,
        orders_lookback
    from {{ ref('int_customer_order_windows') }}
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
    where spine.horizon_observed and {{ order_valid_at('orders', 'spine.horizon_end_date') }}
    group by orders.customer_id, spine.snapshot_date
)

select
    order_windows.customer_id,
    order_windows.snapshot_date,
    spine.horizon_end_date,
    spine.horizon_observed,
    order_windows.orders_lookback > 0 as is_eligible,
    case when spine.horizon_observed then coalesce(horizon_orders.orders_in_horizon, 0) end as orders_in_horizon,
    case
        when order_windows.orders_lookback > 0 and spine.horizon_observed
            then coalesce(horizon_orders.orders_in_horizon, 0) = 0
    end as churned,
    spine.inputs_fingerprint
from order_windows
inner join spine on order_windows.snapshot_date = spine.snapshot_date
left join horizon_orders
    on {{ same_customer_snapshot('order_windows', 'horizon_orders') }}
