{#-
    Baseline vs enhanced vs peers on the out-of-time test snapshot, side by side: one row per model and peer,
    with the ROC-AUC difference to the selected baseline model (paired bootstrap 95% CI) and to the best peer.
-#}
with

metrics as (
    select * from {{ ref('churn_model_metrics') }}
),

best_peer as (
    select max(roc_auc) as best_peer_roc_auc
    from metrics
    where feature_set = 'peer'
),

final as (
    select
        metrics.model_id,
        metrics.run_id,
        case
            when metrics.feature_set = 'peer' then 'peer: ' || metrics.model_kind
            else metrics.feature_set || ' (' || metrics.model_kind || ')'
        end as model_label,
        metrics.feature_set,
        metrics.model_kind,
        metrics.is_selected,
        metrics.is_champion,
        metrics.eval_snapshot_date,
        metrics.n_rows,
        metrics.n_positive,
        metrics.base_rate,
        metrics.roc_auc,
        metrics.pr_auc,
        metrics.top_decile_lift,
        metrics.top_decile_capture,
        metrics.brier,
        metrics.log_loss,
        metrics.precision,
        metrics.recall,
        metrics.f1,
        metrics.auc_diff_vs_baseline,
        metrics.auc_diff_ci_low,
        metrics.auc_diff_ci_high,
        metrics.auc_diff_ci_low > 0 as beats_baseline,
        metrics.active_n_rows,
        metrics.active_roc_auc,
        metrics.active_auc_diff_vs_baseline,
        metrics.active_auc_diff_ci_low,
        metrics.active_auc_diff_ci_high,
        metrics.roc_auc - best_peer.best_peer_roc_auc as auc_diff_vs_best_peer,
        metrics.feature_set <> 'peer' and metrics.roc_auc > best_peer.best_peer_roc_auc as beats_best_peer,
        case
            when metrics.feature_set = 'enhanced' and metrics.is_selected then 1
            when metrics.feature_set = 'baseline' and metrics.is_selected then 2
            when metrics.feature_set = 'enhanced' then 3
            when metrics.feature_set = 'baseline' then 4
            when metrics.model_kind = 'rfm_score' then 5
            else 6
        end as display_order
    from metrics
    cross join best_peer
)

select * from final
