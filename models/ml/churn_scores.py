"""One row per customer at as_of_date: calibrated churn probability, risk tier, revenue at risk, top-3 reasons.

Thin adapter: scores the as-of rows of churn_training_set in batches with the champion of the run that
churn_model_runs fitted (loaded from the artifact path it records; nothing is trained here).
"""

from python_jobs.churn import adapter


def model(dbt, session):
    dbt.config(materialized="table")
    # One config key for the whole run: dbt passes only keys named in literal dbt.config.get("...") calls.
    config = dict(dbt.config.get("churn_run"))
    fitted = adapter.run_from_registry(dbt.ref("churn_model_runs"))
    rows = dbt.ref("churn_training_set").filter("split = 'score'")
    return adapter.scores_table(fitted, rows, config)
