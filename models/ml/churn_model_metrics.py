"""One row per model (baseline/enhanced x logreg/hgb) and peer on the out-of-time test snapshot.

Thin adapter: loads the run churn_scores trained (same content hash, so no retraining) and checks it is that run.
"""

from python_jobs.churn import adapter


def model(dbt, session):
    dbt.config(materialized="table")
    # One config key for the whole run: dbt passes only keys named in literal dbt.config.get("...") calls.
    config = dict(dbt.config.get("churn_run"))
    training = adapter.training_frame(dbt.ref("churn_training_set"), config)
    registry = dbt.ref("churn_features").df()
    scores = dbt.ref("churn_scores")
    fitted = adapter.run_from_dbt(training, registry, config)
    adapter.check_same_run(fitted, set(scores.project("run_id").distinct().df()["run_id"]))
    return adapter.metrics_table(fitted, config)
