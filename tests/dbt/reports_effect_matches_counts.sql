-- rpt_intervention_effect: rates and the effect are consistent with the counts behind them.
select *
from {{ ref('rpt_intervention_effect') }}
where
    retained_treated > n_treated
    or retained_control > n_control
    or abs(effect - (retained_treated * 1.0 / n_treated - retained_control * 1.0 / n_control)) > 1e-9
