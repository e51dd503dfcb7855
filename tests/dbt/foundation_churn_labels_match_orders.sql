-- Labels recomputed independently, from fct_orders alone (not from the order windows or RFM the model uses),
-- with the status as known at each point in time (a cancellation counts only from its cancelled_at):
--   is_eligible <=> an order placed in [T - lookback_days, T) and not cancelled before T;
--   churned     <=> no order placed in [T, T + horizon) and not cancelled before T + horizon;
--   churned is null <=> not eligible or horizon not observed.
-- Returns offending rows.
with

labels as (
    select * from {{ built_snapshots(ref('churn_labels')) }}
),

orders as (
    select
        customer_id,
        ordered_at,
        cancelled_at
    from {{ ref('fct_orders') }}
),

recomputed as (
    select
        labels.customer_id,
        labels.snapshot_date,
        count(
            case
                when
                    orders.ordered_at < labels.snapshot_date
                    and (orders.cancelled_at is null or orders.cancelled_at >= labels.snapshot_date)
                    then 1
            end
        ) > 0 as expected_eligible,
        count(
            case
                when
                    orders.ordered_at >= labels.snapshot_date
                    and (orders.cancelled_at is null or orders.cancelled_at >= labels.horizon_end_date)
                    then 1
            end
        ) > 0 as expected_ordered_in_horizon
    from labels
    left join orders
        on
            labels.customer_id = orders.customer_id
            and {{ dbt.dateadd('day', -var('lookback_days'), 'labels.snapshot_date') }} <= orders.ordered_at
            and labels.horizon_end_date > orders.ordered_at
    group by labels.customer_id, labels.snapshot_date
)

select
    labels.customer_id,
    labels.snapshot_date,
    labels.is_eligible,
    recomputed.expected_eligible,
    labels.churned,
    recomputed.expected_ordered_in_horizon
from labels
inner join recomputed
    on {{ same_customer_snapshot('labels', 'recomputed') }}
where
    labels.is_eligible != recomputed.expected_eligible
    or (labels.churned is not null and labels.churned = recomputed.expected_ordered_in_horizon)
    or (labels.churned is null) != (not recomputed.expected_eligible or not labels.horizon_observed)
