"""ROC, PR, lift and calibration points per model and peer on the out-of-time test snapshot (for charts).

Thin adapter: loads the run churn_scores trained (same content hash, so no retraining) and checks it is that run.
"""

from python_jobs.churn import adapter


def model(dbt, session):
    dbt.config(materialized="table")
    # dbt only passes config keys it sees as literal dbt.config.get("...") calls.
    config = {
        "random_seed": dbt.config.get("random_seed"),
        "risk_high_share": dbt.config.get("risk_high_share"),
        "risk_medium_share": dbt.config.get("risk_medium_share"),
        "risk_high_cut": dbt.config.get("risk_high_cut"),
        "risk_medium_cut": dbt.config.get("risk_medium_cut"),
        "model_dir": dbt.config.get("model_dir"),
        "max_train_rows": dbt.config.get("max_train_rows"),
        "n_boot": dbt.config.get("n_boot"),
        "n_threads": dbt.config.get("n_threads"),
    }
    training = adapter.training_frame(dbt.ref("churn_training_set"), config)
    registry = dbt.ref("churn_features").df()
    scores = dbt.ref("churn_scores")
    fitted = adapter.run_from_dbt(training, registry, config)
    adapter.check_same_run(fitted, set(scores.project("run_id").distinct().df()["run_id"]))
    return adapter.curves_table(fitted)
