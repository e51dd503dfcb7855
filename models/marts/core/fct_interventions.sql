with

interventions as (
    select * from {{ ref('int_interventions') }}
)

select
    intervention_id,
    customer_id,
    campaign_id,
    sent_at,
    action,
    channel,
    arm,
    unit_cost,
    arm = 'treatment' as is_treated
from interventions
