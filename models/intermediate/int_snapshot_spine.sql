{#-
    Snapshot dates T (design section 6). Rule:
    - as_of_date = var('as_of_date'), or the day after the last placed order (so that day's orders count as < T);
    - the spine starts at var('spine_start_date'), or the first month start on/after first placed order + 30 days;
      (placed orders whatever their status: the spine must not move when an order is cancelled later);
    - then every var('snapshot_months') months while < as_of_date, plus as_of_date itself (is_as_of, never labelled);
    - horizon_end_date = T + var('churn_horizon_days'); horizon_observed = horizon_end_date <= as_of_date.
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
)

select
    snapshots.snapshot_date,
    cast({{ dbt.dateadd('day', horizon, 'snapshots.snapshot_date') }} as date) as horizon_end_date,
    snapshots.snapshot_date = bounds.as_of_date as is_as_of,
    cast({{ dbt.dateadd('day', horizon, 'snapshots.snapshot_date') }} as date) <= bounds.as_of_date as horizon_observed
from snapshots
cross join bounds
