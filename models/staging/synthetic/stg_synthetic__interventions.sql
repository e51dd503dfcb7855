with

checked as (
    select * from {{ ref('base_synthetic__interventions') }}
)

select
    intervention_id,
    customer_id,
    campaign_id,
    sent_at,
    action,
    channel,
    arm,
    unit_cost
from checked
where quarantine_reason is null
