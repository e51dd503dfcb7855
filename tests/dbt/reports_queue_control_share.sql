-- The held-out control arm stays near var('control_share') and is not skewed by risk tier
-- (judged only when a tier has enough customers for the share to be meaningful).
with

queue as (
    select * from {{ ref('rpt_intervention_queue') }}
),

shares as (
    select
        risk_tier,
        count(*) as customers,
        avg(case when is_held_out then 1.0 else 0.0 end) as control_share
    from queue
    group by risk_tier
)

select *
from shares
where customers >= 400 and abs(control_share - {{ var('control_share', 0.10) }}) > 0.05
