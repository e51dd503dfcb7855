-- The held-out control arm is a fair coin with P(control) = var('control_share') in every risk tier and overall.
-- Judged on every tier the queue has, however small: the held-out count of a tier with n customers is
-- Binomial(n, p) when the arm ignores the tier, so a share further than 4 standard errors (sqrt(p (1 - p) / n))
-- from p fails. False-alarm rate under a fair arm: about 6e-5 per tier (two-sided normal tail beyond 4 sd).
{%- set p = var('control_share', 0.10) %}
with

queue as (
    select * from {{ ref('rpt_intervention_queue') }}
),

by_tier as (
    select
        risk_tier,
        count(*) as customers,
        sum(case when is_held_out then 1.0 else 0.0 end) / count(*) as control_share
    from queue
    group by risk_tier
),

overall as (
    select
        'all tiers' as risk_tier,
        count(*) as customers,
        sum(case when is_held_out then 1.0 else 0.0 end) / count(*) as control_share
    from queue
    having count(*) > 0
),

shares as (
    select * from by_tier
    union all
    select * from overall
)

select
    risk_tier,
    customers,
    control_share,
    4 * sqrt({{ p }} * (1 - {{ p }}) / customers) as tolerance
from shares
where abs(control_share - {{ p }}) > 4 * sqrt({{ p }} * (1 - {{ p }}) / customers)
