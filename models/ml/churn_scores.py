"""One row per customer at as_of_date: calibrated churn probability, risk tier, revenue at risk, top-3 reasons.

Thin adapter: the first of the three ML models to run trains (python_jobs.churn.run.get_or_fit caches the run
under its content hash in var model_dir); churn_model_metrics and churn_model_curves load the same run.
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
    fitted = adapter.run_from_dbt(training, registry, config)
    return adapter.scores_table(fitted, training, config)
