{#-
    Snapshot dates T (design section 6). Rule:
    - as_of_date = var('as_of_date'), or the day after the last placed order (so that day's orders count as < T);
    - the spine starts at var('spine_start_date'), or the first month start on/after first placed order + 30 days;
      (placed orders whatever their status: the spine must not move when an order is cancelled later);
    - then every var('snapshot_months') months while < as_of_date, plus as_of_date itself (is_as_of, never labelled);
    - horizon_end_date = T + var('churn_horizon_days'); horizon_observed = horizon_end_date <= as_of_date;
    - split, the one place the modelling split is decided (read by churn_training_set, the weak sentiment model
      and the voice PCs): 'test' = the evaluation snapshot, var('eval_snapshot_date') or the latest observed one;
      'train' = observed horizon closed by the evaluation snapshot (horizon_end_date <= it), inside
      [var('train_start_date'), var('train_end_date')]; 'score' = the as-of snapshot; null = not used.
-#}
{%- set horizon = var('churn_horizon_days') %}
{%- set step = var('snapshot_months') %}

with

placed_orders as (
    select ordered_at from {{ ref('int_orders') }}
),

order_range as (
    select
        cast(min(ordered_at) as date) as first_order_date,
        cast(max(ordered_at) as date) as last_order_date
    from placed_orders
),

bounds as (
    select
        coalesce(
            {{ date_var('as_of_date') }},
            cast({{ dbt.dateadd('day', 1, 'last_order_date') }} as date)
        ) as as_of_date,
        coalesce(
            {{ date_var('spine_start_date') }},
            cast({{ dbt.date_trunc('month', dbt.dateadd('day', -1, dbt.dateadd('month', 1,
                dbt.dateadd('day', 30, 'first_order_date')))) }} as date)
        ) as spine_start_date
    from order_range
),

steps as (
    {{ dbt.generate_series(600) }}
),

monthly as (
    select
        cast(
            {{ dbt.dateadd('month', '(steps.generated_number - 1) * ' ~ step, 'bounds.spine_start_date') }} as date
        ) as snapshot_date
    from steps
    cross join bounds
),

snapshots as (
    select monthly.snapshot_date
    from monthly
    cross join bounds
    where monthly.snapshot_date < bounds.as_of_date
    union all
    select as_of_date as snapshot_date
    from bounds
    where as_of_date is not null
),

dated as (
    select
        snapshots.snapshot_date,
        cast({{ dbt.dateadd('day', horizon, 'snapshots.snapshot_date') }} as date) as horizon_end_date,
        snapshots.snapshot_date = bounds.as_of_date as is_as_of,
        cast({{ dbt.dateadd('day', horizon, 'snapshots.snapshot_date') }} as date) <= bounds.as_of_date
            as horizon_observed
    from snapshots
    cross join bounds
),

evaluation as (
    select
        coalesce(
            {{ date_var('eval_snapshot_date') }},
            max(case when horizon_observed and not is_as_of then snapshot_date end)
        ) as eval_snapshot_date
    from dated
)

select
    dated.snapshot_date,
    dated.horizon_end_date,
    dated.is_as_of,
    dated.horizon_observed,
    evaluation.eval_snapshot_date,
    case
        when dated.is_as_of then 'score'
        when dated.snapshot_date = evaluation.eval_snapshot_date and dated.horizon_observed then 'test'
        when
            dated.horizon_observed
            and dated.horizon_end_date <= evaluation.eval_snapshot_date
            and dated.snapshot_date >= coalesce({{ date_var('train_start_date') }}, dated.snapshot_date)
            and dated.snapshot_date <= coalesce({{ date_var('train_end_date') }}, dated.snapshot_date)
            then 'train'
    end as split
from dated
cross join evaluation
