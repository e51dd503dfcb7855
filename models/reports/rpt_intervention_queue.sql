{#-
    The next campaign: high- and medium-risk customers who are still active (rpt_churn_risk.customer_status; a
    lapsed customer has already gone and is left to win-back) with their playbook action, ranked by the expected
    value an action saves = churn probability x spend at risk x effect - unit_cost (= revenue_at_risk x effect
    - unit_cost), where effect is the measured uplift of that action
    (rpt_intervention_effect, overall) once enough customers back it, else the playbook's assumed effect.
    A deterministic control arm (hash of campaign_id and customer_id < control_share) is held out: it is ranked
    like everyone else but costs nothing and receives nothing, so the campaign's effect can be measured.
    is_selected: positive expected value and the treated customers' cumulative cost within intervention_budget.
-#}
{%- set campaign_id = env_var('CHURN_CAMPAIGN_ID', var('campaign_id', 'next')) -%}
{%- set control_share = var('control_share', 0.10) -%}
{%- set budget = var('intervention_budget', 25000) -%}

with

risk as (
    select * from {{ ref('rpt_churn_risk') }}
    where risk_tier in ('high', 'medium') and customer_status = 'active'
),

measured as (
    select
        action,
        effect,
        ci_low,
        ci_high,
        n_treated + n_control as n_customers
    from {{ ref('rpt_intervention_effect') }}
    where subgroup_type = 'all' and has_min_support
),

candidates as (
    select
        risk.customer_id,
        risk.snapshot_date,
        risk.risk_tier,
        risk.churn_probability,
        risk.revenue_at_risk,
        risk.days_since_last_order,
        risk.usual_order_gap_days,
        risk.horizon_days,
        risk.currency,
        risk.recommended_action as action,
        risk.action_channel as channel,
        risk.action_unit_cost as unit_cost,
        risk.action_rule_id,
        risk.action_assumed_effect as assumed_effect,
        measured.effect as measured_effect,
        measured.n_customers as measured_n,
        coalesce(measured.effect, risk.action_assumed_effect) as effect_used,
        case when measured.effect is not null then 'measured' else 'assumed' end as effect_source,
        {{ reports_hash_unit("'" ~ campaign_id ~ ":' || risk.customer_id") }} as arm_hash
    from risk
    left join measured
        on risk.recommended_action = measured.action
),

valued as (
    select
        *,
        revenue_at_risk * effect_used - unit_cost as expected_value,
        case when arm_hash < {{ control_share }} then 'control' else 'treatment' end as arm
    from candidates
),

ranked as (
    select
        *,
        row_number() over (order by expected_value desc, customer_id asc) as queue_rank,
        sum(case when arm = 'treatment' then unit_cost else 0 end) over (
            order by expected_value desc, customer_id asc rows between unbounded preceding and current row
        ) as cumulative_cost
    from valued
)

select
    cast('{{ campaign_id }}' as {{ dbt.type_string() }}) as campaign_id,
    cast(customer_id as {{ dbt.type_string() }}) as customer_id,
    cast(snapshot_date as date) as snapshot_date,
    cast(queue_rank as integer) as queue_rank,
    cast(risk_tier as {{ dbt.type_string() }}) as risk_tier,
    cast(churn_probability as {{ type_double() }}) as churn_probability,
    cast(revenue_at_risk as {{ type_double() }}) as revenue_at_risk,
    cast(days_since_last_order as integer) as days_since_last_order,
    cast(usual_order_gap_days as {{ type_double() }}) as usual_order_gap_days,
    cast(action as {{ dbt.type_string() }}) as action,
    cast(channel as {{ dbt.type_string() }}) as channel,
    cast(action_rule_id as {{ dbt.type_string() }}) as action_rule_id,
    cast(unit_cost as {{ type_double() }}) as unit_cost,
    cast(assumed_effect as {{ type_double() }}) as assumed_effect,
    cast(measured_effect as {{ type_double() }}) as measured_effect,
    cast(measured_n as integer) as measured_n,
    cast(effect_used as {{ type_double() }}) as effect_used,
    cast(effect_source as {{ dbt.type_string() }}) as effect_source,
    cast(expected_value as {{ type_double() }}) as expected_value,
    cast(arm as {{ dbt.type_string() }}) as arm,
    arm = 'control' as is_held_out,
    cast(arm_hash as {{ type_double() }}) as arm_hash,
    cast(cumulative_cost as {{ type_double() }}) as cumulative_cost,
    coalesce(expected_value > 0 and cumulative_cost <= {{ budget }}, false) as is_selected,
    cast(horizon_days as integer) as horizon_days,
    cast(currency as {{ dbt.type_string() }}) as currency
from ranked
