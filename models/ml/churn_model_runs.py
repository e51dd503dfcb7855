"""churn_model_runs: the registry row of every model of the churn run; the one DAG node that fits it.

Thin adapter over python_jobs.churn: fits the run on churn_training_set's labelled rows, or reuses the stored run
when its content hash (training rows, features, settings, code version) is unchanged (0 fits), and records the
artifact (content-addressed under var model_dir) that churn_scores, churn_model_metrics and churn_model_curves load.
When the labelled snapshots' inputs_fingerprints are those of the last build, its run is reused without reading
the rows.
"""

from python_jobs.churn import adapter
from python_jobs.warehouse import previous_table


def model(dbt, session):
    dbt.config(materialized="table")
    # One config key for the whole run: dbt passes only keys named in literal dbt.config.get("...") calls.
    config = dict(dbt.config.get("churn_run"))
    previous = previous_table(session, dbt.this)  # its run is reused when the inputs are unchanged
    return adapter.fit_runs_table(
        dbt.ref("churn_training_set"),
        dbt.ref("churn_features").df(),
        config,
        previous=previous,
        session=session,
    )
