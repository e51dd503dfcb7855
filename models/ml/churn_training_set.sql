{#-
    One row per eligible customer per snapshot, with every registered feature (seeds/churn_features.csv: the
    select list is generated from the seed by macro churn_feature_columns; a feature is one seed row),
    the label and the spine's split (int_snapshot_spine: test = the evaluation snapshot, train = horizons closed
    by it, score = the as_of snapshot, which has no label); other snapshots are left out.
    Point-in-time evidence: orders_max_event_at, sessions_max_event_at, voice_max_event_at and
    interventions_max_event_at are the latest events the order, visit, text and exposure features aggregated; feature_max_event_at is the greatest of them. Tests and the Python guard require
    them to be strictly before snapshot_date.
    Too short a history for the horizon (no evaluation snapshot, too few training snapshots) stops the build here,
    naming the minimum (macro require_history), instead of failing later in the model fit.
    Customer buckets (macros/customer_buckets.sql), every input filtered to the bucket: at 1M customers (24
    snapshots, 7.9M rows) DuckDB 2.0 ran out of memory at memory_limit 5GB in one statement; in five it took 54 s,
    and DuckDB 1.5.5 53 s instead of 74 s in one (filtering only the labels: 128 s). Same rows.
-#}
{{ snapshot_incremental('training', bucket_on='customer_id') }}
{{ config(post_hook="{{ require_history() }}") }}
-- depends_on: {{ ref('churn_features') }}
-- depends_on: {{ ref('int_customer_snapshots') }} (customer buckets count its pending rows)
{%- set lookback = var('lookback_days') %}
{%- set horizon = var('churn_horizon_days') %}
{#- feature marts a customer may be missing from (left joined); customer_rfm is always there -#}
{%- set optional_marts = [
    'customer_order_features', 'customer_activity', 'customer_voice', 'customer_intervention_exposure',
] %}

with

labels as (
    select * from {{ ref('churn_labels') }}
),

pending as (
    {{ pending_snapshots('training') }}
),

spine as (
    select
        spine.*,
        pending.inputs_fingerprint
    from {{ ref('int_snapshot_spine') }} as spine
    inner join pending on spine.snapshot_date = pending.snapshot_date
),

-- the feature marts: each seed row names one of these CTEs as its source. Each reads the pending snapshots
-- only: the planner cannot tell how few they are, and a nightly build (one snapshot) built hash tables of
-- every snapshot of each mart (1M customers: 11.5 s -> 2.0 s)
{%- for mart in ['customer_rfm'] + optional_marts %}
    {{ mart }} as (
        select * from {{ ref(mart) }}
        where snapshot_date in (select spine.snapshot_date from spine) and {{ in_customer_bucket('customer_id') }}
    ),
{% endfor %}
order_windows as (
    select
        customer_id,
        snapshot_date,
        last_order_at
    from {{ ref('int_customer_order_windows') }}
    where snapshot_date in (select spine.snapshot_date from spine) and {{ in_customer_bucket('customer_id') }}
),

eligible as (
    select
        labels.customer_id,
        labels.snapshot_date,
        labels.horizon_end_date,
        spine.split,
        spine.inputs_fingerprint,
        case when spine.split in ('train', 'test') then labels.churned end as churned
    from labels
    inner join spine on labels.snapshot_date = spine.snapshot_date
    where labels.is_eligible and spine.split is not null and {{ in_customer_bucket('labels.customer_id') }}
),

joined as (
    select
        eligible.customer_id,
        eligible.snapshot_date,
        eligible.horizon_end_date,
        eligible.split,
        eligible.churned,
        eligible.inputs_fingerprint,
        customer_rfm.rfm_score,
        {% for column in churn_feature_columns() -%}
            {{ column }},
        {% endfor -%}
        customer_rfm.monetary / {{ lookback }} * {{ horizon }} as spend_rate,
        order_windows.last_order_at as orders_max_event_at,
        {{ dbt.dateadd('day', '-customer_activity.days_since_last_visit', 'eligible.snapshot_date') }}
            as sessions_max_event_at,
        customer_voice.voice_max_event_at,
        customer_intervention_exposure.last_intervention_at as interventions_max_event_at
    from eligible
    inner join customer_rfm
        on {{ same_customer_snapshot('eligible', 'customer_rfm') }}
    inner join order_windows
        on {{ same_customer_snapshot('eligible', 'order_windows') }}
    {%- for mart in optional_marts %}
        left join {{ mart }}
            on {{ same_customer_snapshot('eligible', mart) }}
    {%- endfor %}
)

select
    *,
    greatest(orders_max_event_at, sessions_max_event_at, voice_max_event_at, interventions_max_event_at)
        as feature_max_event_at
from joined
