"""One row per customer at as_of_date: calibrated churn probability, risk tier, revenue at risk, top-3 reasons.

Thin adapter: scores the as-of rows of churn_training_set in batches with the champion of the run that
churn_model_runs fitted (loaded from the artifact path it records; nothing is trained here). A row whose
inputs_fingerprint is unchanged since the last build is taken from that build's table instead of rescored.
"""

from python_jobs.churn import adapter


def model(dbt, session):
    # One config key for the whole run: dbt passes only keys named in literal dbt.config.get("...") calls.
    config = dict(dbt.config.get("churn_run"))
    fitted = adapter.run_from_registry(dbt.ref("churn_model_runs"))
    rows = dbt.ref("churn_training_set").filter("split = 'score'")
    previous = (
        adapter.previous_scores(session, dbt.this, rows) if dbt.is_incremental else None
    )  # not on --full-refresh
    return adapter.scores_table(fitted, rows, config, previous=previous)
