-- The retention queue holds only customers an action can still save: high or medium risk and still active.
-- A lapsed customer (rpt_churn_risk.customer_status) has already gone and belongs to a win-back campaign.
with

queue as (
    select * from {{ ref('rpt_intervention_queue') }}
),

risk as (
    select * from {{ ref('rpt_churn_risk') }}
)

select
    queue.customer_id,
    risk.risk_tier,
    risk.customer_status
from queue
inner join risk
    on queue.customer_id = risk.customer_id
where risk.customer_status <> 'active' or risk.risk_tier not in ('high', 'medium')
