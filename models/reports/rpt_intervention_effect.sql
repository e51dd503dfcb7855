{#-
    Measured effect of past retention actions: 90-day retention (a valid order within effect_window_days after
    sent_at) in the treatment vs the randomised control arm, with the difference and a normal-approximation
    95% confidence interval for a difference of proportions. Only sends whose window is fully observed count.
    Rows: per action overall (subgroup_type = 'all'), per action and campaign, and per action and the
    customer's RFM segment at the time of sending (risk scores exist only at the as-of date, so the RFM
    segment at send time stands in for the risk tier).
-#}
{%- set window_days = var('effect_window_days', 90) -%}
{%- set min_n = var('effect_min_customers', 200) -%}

with

interventions as (
    select * from {{ ref('fct_interventions') }}
),

orders as (
    select
        customer_id,
        ordered_at
    from {{ ref('fct_orders') }}
    where is_valid_order
),

spine as (
    select * from {{ ref('int_snapshot_spine') }}
),

rfm as (
    select
        customer_id,
        snapshot_date,
        rfm_segment
    from {{ ref('customer_rfm') }}
),

as_of as (
    select max(snapshot_date) as as_of_date
    from spine
),

observed_sends as (
    select
        interventions.intervention_id,
        interventions.customer_id,
        interventions.campaign_id,
        interventions.action,
        interventions.arm,
        interventions.sent_at,
        {{ dbt.dateadd('day', window_days, 'interventions.sent_at') }} as window_end_at
    from interventions
    cross join as_of
    where
        interventions.arm in ('treatment', 'control')
        and {{ dbt.dateadd('day', window_days, 'interventions.sent_at') }} <= as_of.as_of_date
),

retained as (
    select distinct observed_sends.intervention_id
    from observed_sends
    inner join orders
        on
            observed_sends.customer_id = orders.customer_id
            and observed_sends.sent_at < orders.ordered_at
            and observed_sends.window_end_at > orders.ordered_at
),

segment_at_send as (
    select
        observed_sends.intervention_id,
        rfm.rfm_segment,
        row_number() over (
            partition by observed_sends.intervention_id order by rfm.snapshot_date desc
        ) as recency_rank
    from observed_sends
    inner join rfm
        on
            observed_sends.customer_id = rfm.customer_id
            and observed_sends.sent_at >= rfm.snapshot_date
            and {{ dbt.dateadd('day', -62, 'observed_sends.sent_at') }} < rfm.snapshot_date
),

outcomes as (
    select
        observed_sends.intervention_id,
        observed_sends.campaign_id,
        observed_sends.action,
        observed_sends.sent_at,
        observed_sends.arm = 'treatment' as is_treated,
        retained.intervention_id is not null as is_retained,
        coalesce(segment_at_send.rfm_segment, 'unknown') as rfm_segment
    from observed_sends
    left join retained
        on observed_sends.intervention_id = retained.intervention_id
    left join segment_at_send
        on
            observed_sends.intervention_id = segment_at_send.intervention_id
            and segment_at_send.recency_rank = 1
),

subgroups as (
    select
        *,
        'all' as subgroup_type,
        'all' as subgroup
    from outcomes
    union all
    select
        *,
        'campaign' as subgroup_type,
        campaign_id as subgroup
    from outcomes
    union all
    select
        *,
        'rfm_segment_at_send' as subgroup_type,
        rfm_segment as subgroup
    from outcomes
),

counts as (
    select
        action,
        subgroup_type,
        subgroup,
        count(distinct campaign_id) as campaigns,
        min(sent_at) as first_sent_at,
        max(sent_at) as last_sent_at,
        sum(case when is_treated then 1 else 0 end) as n_treated,
        sum(case when not is_treated then 1 else 0 end) as n_control,
        sum(case when is_treated and is_retained then 1 else 0 end) as retained_treated,
        sum(case when not is_treated and is_retained then 1 else 0 end) as retained_control
    from subgroups
    group by action, subgroup_type, subgroup
),

rates as (
    select
        *,
        {{ ratio('retained_treated', 'n_treated') }} as retention_treated,
        {{ ratio('retained_control', 'n_control') }} as retention_control
    from counts
),

effects as (
    select
        *,
        retention_treated - retention_control as effect,
        {{ reports_diff_se('retention_treated', 'n_treated', 'retention_control', 'n_control') }} as effect_se
    from rates
)

select
    cast(action as {{ dbt.type_string() }}) as action,
    cast(subgroup_type as {{ dbt.type_string() }}) as subgroup_type,
    cast(subgroup as {{ dbt.type_string() }}) as subgroup,
    cast(campaigns as integer) as campaigns,
    cast(first_sent_at as timestamp) as first_sent_at,
    cast(last_sent_at as timestamp) as last_sent_at,
    cast(n_treated as integer) as n_treated,
    cast(n_control as integer) as n_control,
    cast(retained_treated as integer) as retained_treated,
    cast(retained_control as integer) as retained_control,
    cast(retention_treated as {{ type_double() }}) as retention_treated,
    cast(retention_control as {{ type_double() }}) as retention_control,
    cast(effect as {{ type_double() }}) as effect,
    cast(effect_se as {{ type_double() }}) as effect_se,
    cast(effect - 1.96 * effect_se as {{ type_double() }}) as ci_low,
    cast(effect + 1.96 * effect_se as {{ type_double() }}) as ci_high,
    coalesce(effect - 1.96 * effect_se > 0 or effect + 1.96 * effect_se < 0, false) as is_significant,
    n_treated >= {{ min_n }} and n_control >= {{ (min_n / 4) | int }} as has_min_support
from effects
