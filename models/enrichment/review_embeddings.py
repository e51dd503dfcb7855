"""review_embeddings: one row per review with its embedding (FLOAT[d]) from var('embedding_model').

Thin adapter: all logic is in python_jobs.text (redaction, cache, embed_multi batches). Incremental: only
reviews that are new or changed (source_hash, which includes the embedding model id and version) are embedded.
"""

from python_jobs.text.enrich import embed_reviews, embed_settings
from python_jobs.text.runs import RunLog


def model(dbt, session):
    # dbt hands a Python model only the config keys named in literal dbt.config.get("...") calls
    config = {
        "embedding_model": dbt.config.get("embedding_model"),
        "llm_cache_path": dbt.config.get("llm_cache_path"),
        "max_texts": dbt.config.get("max_texts"),
        "tag_max_retries": dbt.config.get("tag_max_retries"),
        "tag_backoff_s": dbt.config.get("tag_backoff_s"),
    }
    reviews = dbt.ref("fct_reviews")
    this = str(dbt.this) if dbt.is_incremental else None
    run = RunLog(session, dbt.this)  # its tally goes to dbt's log and to table enrichment_runs
    return embed_reviews(reviews, embed_settings(config.get), this=this, run=run)
