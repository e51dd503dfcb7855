{#-
    Intervention exposure as a point-in-time feature: one row per customer per snapshot date T, counting only
    retention actions sent before T (never their outcome, which lies after the send). Lets the churn model
    see who was already treated without leaking the label window [T, T + horizon).
-#}
{{ snapshot_incremental('behaviour') }}

with

customer_snapshots as (
    {{ pending_customer_snapshots() }}
),

interventions as (
    select
        customer_id,
        campaign_id,
        action,
        sent_at,
        arm
    from {{ ref('int_interventions') }}
    where customer_id is not null
),

exposure as (
    select
        customer_snapshots.customer_id,
        customer_snapshots.snapshot_date,
        count(distinct interventions.campaign_id) as campaigns_targeted_before,
        sum(case when interventions.arm = 'treatment' then 1 else 0 end) as interventions_received_before,
        max(case when interventions.arm = 'treatment' then interventions.sent_at end) as last_intervention_at
    from customer_snapshots
    inner join interventions
        on
            customer_snapshots.customer_id = interventions.customer_id
            and customer_snapshots.snapshot_date > interventions.sent_at
    group by customer_snapshots.customer_id, customer_snapshots.snapshot_date
)

select
    customer_snapshots.customer_id,
    customer_snapshots.snapshot_date,
    cast(coalesce(exposure.campaigns_targeted_before, 0) as integer) as campaigns_targeted_before,
    cast(coalesce(exposure.interventions_received_before, 0) as integer) as interventions_received_before,
    cast(exposure.last_intervention_at as timestamp) as last_intervention_at,
    cast(
        {{ dbt.datediff('exposure.last_intervention_at', 'customer_snapshots.snapshot_date', 'day') }} as integer
    ) as days_since_last_intervention,
    customer_snapshots.inputs_fingerprint
from customer_snapshots
left join exposure
    on {{ same_customer_snapshot('customer_snapshots', 'exposure') }}
