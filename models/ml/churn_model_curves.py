"""ROC, PR, lift and calibration points per model and peer on the out-of-time test snapshot (for charts).

Thin adapter: the curves stored with the run churn_model_runs fitted (loaded from its artifact path).
"""

from python_jobs.churn import adapter


def model(dbt, session):
    dbt.config(materialized="table")
    return adapter.curves_table(adapter.run_from_registry(dbt.ref("churn_model_runs")))
