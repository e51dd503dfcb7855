"""review_embeddings: one row per review with its embedding (FLOAT[d]) from var('embedding_model').

Thin adapter: all logic is in python_jobs.text (redaction, cache, embed_multi batches). Incremental: only
reviews that are new or changed (source_hash, which includes the embedding model id and version) are embedded.
"""

from python_jobs.text.enrich import embed_reviews, embed_settings
from python_jobs.text.runs import RunLog


def model(dbt, session):
    reviews = dbt.ref("fct_reviews")
    this = str(dbt.this) if dbt.is_incremental else None
    run = RunLog(session, dbt.this)  # its tally goes to dbt's log and to table enrichment_runs
    return embed_reviews(reviews, embed_settings(dbt.config.get), this=this, run=run)
