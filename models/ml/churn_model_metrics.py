"""One row per model (baseline/enhanced x logreg/hgb) and peer on the out-of-time test snapshot.

Thin adapter: the evaluation stored with the run churn_model_runs fitted (loaded from its artifact path).
"""

from python_jobs.churn import adapter


def model(dbt, session):
    dbt.config(materialized="table")
    # One config key for the whole run: dbt passes only keys named in literal dbt.config.get("...") calls.
    config = dict(dbt.config.get("churn_run"))
    fitted = adapter.run_from_registry(dbt.ref("churn_model_runs"))
    return adapter.metrics_table(fitted, config)
