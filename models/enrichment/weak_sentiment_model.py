"""weak_sentiment_model: the registry row of the star-rating sentiment model review_tags blends in.

Thin adapter over python_jobs.text.weak_registry: fitted only on reviews created before the evaluation snapshot
(int_snapshot_spine.split = 'test'), stored as a content-addressed artifact under var model_dir.
"""

from python_jobs.text.weak_registry import fit_registry


def model(dbt, session):
    dbt.config(materialized="table")
    return fit_registry(
        dbt.ref("fct_reviews"),  # a relation: unchanged training reviews are recognised without reading them
        dbt.ref("int_snapshot_spine").df(),
        model_dir=dbt.config.get("model_dir"),
        tag_model=dbt.config.get("tag_model"),
        enabled=dbt.config.get("weak_sentiment"),
        seed=dbt.config.get("random_seed"),
    )
