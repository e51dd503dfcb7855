{#-
    The risk list: one row per scored customer at the as-of date with probability, tier (and its rule), revenue
    at risk, the top three reasons, whether the customer is still active or already lapsed, both segmentations,
    the last complaint topic and the recommended playbook action. Scored = at least one valid order in the
    lookback_days before the as-of date.
    Lapsed: no order for at least lapsed_min_days (default: the churn horizon) and at least lapsed_gap_multiple
    times the customer's own usual gap between orders; such a customer has already gone, so a retention action
    comes too late (win-back is another campaign). Everyone else is active.
    Action choice (first match wins): the last complaint topic (if within complaint_recent_days), else the
    first reason whose feature matches a driver rule (reason 1 before 2 before 3), else the default rule.
-#}
{%- set recent_days = var('complaint_recent_days', 180) -%}
{%- set horizon = var('churn_horizon_days', 90) -%}
{%- set lapsed_min_days = var('lapsed_min_days', none) or horizon -%}
{%- set lapsed_gap_multiple = var('lapsed_gap_multiple', 3) -%}
{%- set currency = env_var('CHURN_CURRENCY', var('currency', none) or '') -%}

with

scores as (
    select * from {{ python_step('ml', 'churn_scores') }}
),

segments as (
    select * from {{ python_step('ml', 'customer_segments') }}
),

evaluation as (
    select max(eval_snapshot_date) as eval_snapshot_date
    from {{ python_step('ml', 'churn_model_metrics') }}
),

history as (
    select
        customer_id,
        recency_days,
        mean_interorder_days
    from {{ ref('churn_training_set') }}
    where split = 'score'
),

rfm as (
    select
        customer_id,
        snapshot_date,
        rfm_segment
    from {{ ref('customer_rfm') }}
),

complaints as (
    select * from {{ ref('complaint_mentions') }}
),

playbook as (
    select * from {{ ref('playbook_actions') }}
),

complaints_before as (
    select
        complaints.customer_id,
        complaints.topic,
        complaints.created_at
    from complaints
    inner join scores
        on
            complaints.customer_id = scores.customer_id
            and complaints.created_at < scores.snapshot_date
),

last_complaint_at as (
    select
        customer_id,
        max(created_at) as created_at
    from complaints_before
    group by customer_id
),

last_complaint as (
    -- the customer's latest complaint before the snapshot (of several topics then, the first by name):
    -- two aggregates instead of ranking every complaint
    select
        complaints_before.customer_id,
        complaints_before.created_at,
        min(complaints_before.topic) as topic
    from complaints_before
    inner join last_complaint_at
        on
            complaints_before.customer_id = last_complaint_at.customer_id
            and complaints_before.created_at = last_complaint_at.created_at
    group by complaints_before.customer_id, complaints_before.created_at
),

trigger_values as (
    -- every value a playbook rule may be matched against: few distinct ones, however many customers
    select
        'topic' as trigger_type,
        topic as trigger_value
    from last_complaint
    union
    select
        'driver' as trigger_type,
        reason_1_feature as trigger_value
    from scores
    where reason_1_feature is not null
    union
    select
        'driver' as trigger_type,
        reason_2_feature as trigger_value
    from scores
    where reason_2_feature is not null
    union
    select
        'driver' as trigger_type,
        reason_3_feature as trigger_value
    from scores
    where reason_3_feature is not null
    union
    select
        'default' as trigger_type,
        '' as trigger_value
),

value_rules as (
    select
        trigger_values.trigger_type,
        trigger_values.trigger_value,
        playbook.rule_id,
        row_number() over (
            partition by trigger_values.trigger_type, trigger_values.trigger_value
            order by playbook.priority asc, playbook.rule_id asc
        ) as rule_rank
    from trigger_values
    inner join playbook
        on
            trigger_values.trigger_type = playbook.trigger_type
            and (
                (playbook.trigger_type = 'topic' and trigger_values.trigger_value = playbook.trigger_pattern)
                or (playbook.trigger_type <> 'topic' and trigger_values.trigger_value like playbook.trigger_pattern)
            )
),

first_rules as (
    -- the rule a trigger value gets: its first matching rule by priority, then rule_id
    select
        trigger_type,
        trigger_value,
        rule_id
    from value_rules
    where rule_rank = 1
)

select
    cast(scores.customer_id as {{ dbt.type_string() }}) as customer_id,
    cast(scores.snapshot_date as date) as snapshot_date,
    cast(scores.churn_probability as {{ type_double() }}) as churn_probability,
    cast(scores.risk_tier as {{ dbt.type_string() }}) as risk_tier,
    cast(scores.risk_tier_rule as {{ dbt.type_string() }}) as risk_tier_rule,
    cast(
        case
            when
                history.recency_days >= greatest(
                    {{ lapsed_min_days }}, {{ lapsed_gap_multiple }} * coalesce(history.mean_interorder_days, 0)
                )
                then 'lapsed'
            else 'active'
        end as {{ dbt.type_string() }}
    ) as customer_status,
    cast(history.recency_days as integer) as days_since_last_order,
    cast(history.mean_interorder_days as {{ type_double() }}) as usual_order_gap_days,
    cast(scores.spend_rate as {{ type_double() }}) as spend_rate,
    cast(scores.revenue_at_risk as {{ type_double() }}) as revenue_at_risk,
    cast(scores.reason_1 as {{ dbt.type_string() }}) as reason_1,
    cast(scores.reason_2 as {{ dbt.type_string() }}) as reason_2,
    cast(scores.reason_3 as {{ dbt.type_string() }}) as reason_3,
    cast(scores.reason_1_feature as {{ dbt.type_string() }}) as reason_1_feature,
    cast(scores.reason_2_feature as {{ dbt.type_string() }}) as reason_2_feature,
    cast(scores.reason_3_feature as {{ dbt.type_string() }}) as reason_3_feature,
    cast(rfm.rfm_segment as {{ dbt.type_string() }}) as rfm_rule_segment,
    cast(segments.rfm_segment_id as integer) as rfm_segment_id,
    cast(segments.rfm_segment_name as {{ dbt.type_string() }}) as rfm_segment_name,
    cast(segments.fused_segment_id as integer) as fused_segment_id,
    cast(segments.fused_segment_name as {{ dbt.type_string() }}) as fused_segment_name,
    cast(last_complaint.topic as {{ dbt.type_string() }}) as last_complaint_topic,
    cast(last_complaint.created_at as timestamp) as last_complaint_at,
    cast(matched.action as {{ dbt.type_string() }}) as recommended_action,
    cast(matched.channel as {{ dbt.type_string() }}) as action_channel,
    cast(matched.unit_cost as {{ type_double() }}) as action_unit_cost,
    cast(matched.assumed_effect as {{ type_double() }}) as action_assumed_effect,
    cast(matched.rule_id as {{ dbt.type_string() }}) as action_rule_id,
    cast(scores.model_id as {{ dbt.type_string() }}) as model_id,
    cast({{ horizon }} as integer) as horizon_days,
    cast(evaluation.eval_snapshot_date as date) as eval_snapshot_date,
    cast({{ var('lookback_days', 365) }} as integer) as lookback_days,
    cast({{ "'" ~ currency ~ "'" if currency else 'null' }} as {{ dbt.type_string() }}) as currency
from scores
cross join evaluation
left join history
    on scores.customer_id = history.customer_id
left join segments
    on scores.customer_id = segments.customer_id
left join rfm
    on {{ same_customer_snapshot('scores', 'rfm') }}
left join last_complaint
    on scores.customer_id = last_complaint.customer_id
-- the action: the first trigger that has a rule, in precedence order (recent complaint topic, reasons 1-3, default)
left join first_rules as topic_rule
    on
        topic_rule.trigger_type = 'topic'
        and last_complaint.topic = topic_rule.trigger_value
        and last_complaint.created_at >= {{ dbt.dateadd('day', -recent_days, 'scores.snapshot_date') }}
left join first_rules as reason_1_rule
    on reason_1_rule.trigger_type = 'driver' and scores.reason_1_feature = reason_1_rule.trigger_value
left join first_rules as reason_2_rule
    on reason_2_rule.trigger_type = 'driver' and scores.reason_2_feature = reason_2_rule.trigger_value
left join first_rules as reason_3_rule
    on reason_3_rule.trigger_type = 'driver' and scores.reason_3_feature = reason_3_rule.trigger_value
left join first_rules as default_rule
    on default_rule.trigger_type = 'default'
left join playbook as matched
    on matched.rule_id = coalesce(
        topic_rule.rule_id, reason_1_rule.rule_id, reason_2_rule.rule_id, reason_3_rule.rule_id, default_rule.rule_id
    )
