"""customer_voice_embedding_pcs: per customer and snapshot T, principal components of the mean embedding of
the customer's reviews created before T; the components are fitted on training snapshots only.

Thin adapter over python_jobs.text.voice.embedding_components.
"""

from python_jobs.text.voice import voice_pcs_from_relations


def model(dbt, session):
    dbt.config(materialized="table")
    return voice_pcs_from_relations(
        dbt.ref("review_embeddings").to_arrow_table(),
        dbt.ref("int_snapshot_spine").df(),
        dbt.config.get,
    )
