"""One row per customer at as_of_date: calibrated churn probability, risk tier, revenue at risk, top-3 reasons.

Thin adapter: the first of the three ML models to run trains (python_jobs.churn.run.get_or_fit caches the run
under its content hash in var model_dir); churn_model_metrics and churn_model_curves load the same run.
"""

from python_jobs.churn import adapter


def model(dbt, session):
    dbt.config(materialized="table")
    # One config key for the whole run: dbt passes only keys named in literal dbt.config.get("...") calls.
    config = dict(dbt.config.get("churn_run"))
    training = adapter.training_frame(dbt.ref("churn_training_set"), config)
    registry = dbt.ref("churn_features").df()
    fitted = adapter.run_from_dbt(training, registry, config)
    return adapter.scores_table(fitted, training, config)
