-- rpt_intervention_effect: rates and the effect are consistent with the counts behind them.
select *
from {{ ref('rpt_intervention_effect') }}
where
    retained_treated > n_treated
    or retained_control > n_control
    or abs(effect - ({{ ratio('retained_treated', 'n_treated') }} - {{ ratio('retained_control', 'n_control') }})) > 1e-9
