{#-
    Baseline vs enhanced vs peers on the out-of-time test snapshot, side by side: one row per model and peer,
    with the ROC-AUC difference to the selected baseline model and to the best peer (paired bootstrap 95% CIs).
    Verdicts are judged on the CI, never on the point estimate: 'better' only when the whole CI is above 0,
    'worse' when it is below, otherwise 'tie'. The champion (chosen on validation folds) row says plainly when
    another model did better on the test snapshot, and every row carries the evaluation's sufficiency.
-#}
with

metrics as (
    select * from {{ python_step('ml', 'churn_model_metrics') }}
),

labelled as (
    select
        *,
        case
            when feature_set = 'peer' then 'peer: ' || model_kind
            else feature_set || ' (' || model_kind || ')'
        end as model_label
    from metrics
),

best_on_test as (
    -- The fitted model (not a peer) with the highest test ROC-AUC; ties broken by label.
    select
        model_label as best_test_model_label,
        roc_auc as best_test_roc_auc
    from labelled
    where feature_set <> 'peer'
    order by roc_auc desc, model_label asc
    limit 1
),

final as (
    select
        labelled.model_id,
        labelled.run_id,
        labelled.model_label,
        labelled.feature_set,
        labelled.model_kind,
        labelled.is_selected,
        labelled.is_champion,
        labelled.eval_snapshot_date,
        labelled.n_rows,
        labelled.n_positive,
        labelled.n_negative,
        labelled.base_rate,
        labelled.roc_auc,
        labelled.roc_auc_ci_low,
        labelled.roc_auc_ci_high,
        labelled.pr_auc,
        labelled.top_decile_lift,
        labelled.top_decile_capture,
        labelled.brier,
        labelled.log_loss,
        labelled.precision,
        labelled.recall,
        labelled.f1,
        labelled.auc_diff_vs_baseline,
        labelled.auc_diff_ci_low,
        labelled.auc_diff_ci_high,
        labelled.auc_diff_ci_low > 0 as beats_baseline,
        labelled.active_n_rows,
        labelled.active_roc_auc,
        labelled.active_auc_diff_vs_baseline,
        labelled.active_auc_diff_ci_low,
        labelled.active_auc_diff_ci_high,
        labelled.auc_diff_vs_best_peer,
        labelled.auc_diff_vs_best_peer_ci_low,
        labelled.auc_diff_vs_best_peer_ci_high,
        labelled.feature_set <> 'peer' and coalesce(labelled.auc_diff_vs_best_peer_ci_low > 0, false)
            as beats_best_peer,
        case
            when labelled.feature_set = 'peer' then null
            when labelled.auc_diff_vs_best_peer_ci_low > 0 then 'better'
            when labelled.auc_diff_vs_best_peer_ci_high < 0 then 'worse'
            when labelled.auc_diff_vs_best_peer is not null then 'tie'
        end as vs_best_peer,
        case
            when not labelled.is_champion then null
            when best_on_test.best_test_roc_auc > labelled.roc_auc
                then
                    'Chosen on validation, but ' || best_on_test.best_test_model_label
                    || ' has a higher ROC-AUC on the test snapshot ('
                    || cast(cast(best_on_test.best_test_roc_auc as decimal(10, 3)) as {{ dbt.type_string() }}) || ' vs '
                    || cast(cast(labelled.roc_auc as decimal(10, 3)) as {{ dbt.type_string() }}) || ').'
            else 'Chosen on validation; also the best fitted model on the test snapshot.'
        end as champion_note,
        labelled.is_evaluation_sufficient,
        labelled.evaluation_note,
        labelled.run_note,
        case
            when labelled.feature_set = 'enhanced' and labelled.is_selected then 1
            when labelled.feature_set = 'baseline' and labelled.is_selected then 2
            when labelled.feature_set = 'enhanced' then 3
            when labelled.feature_set = 'baseline' then 4
            when labelled.model_kind = 'rfm_score' then 5
            else 6
        end as display_order
    from labelled
    cross join best_on_test
)

select * from final
