"""review_tags: one row per review with its tags (sentiment, topics, churn intent, ...) from var('tag_model').

Thin adapter: all logic is in python_jobs.text (redaction, cache, batching, retries, validation). Incremental:
only reviews that are new, changed (source_hash), or not yet tagged are re-tagged; delete+insert on review_id
merges them in and a post-hook (_enrichment__models.yml) drops reviews deleted upstream.
"""

from python_jobs.text.enrich import tag_reviews, tag_settings
from python_jobs.text.runs import RunLog


def model(dbt, session):
    # dbt hands a Python model only the config keys named in literal dbt.config.get("...") calls
    config = {
        "tag_model": dbt.config.get("tag_model"),
        "llm_cache_path": dbt.config.get("llm_cache_path"),
        "max_texts": dbt.config.get("max_texts"),
        "tag_max_attempts": dbt.config.get("tag_max_attempts"),
        "tag_max_retries": dbt.config.get("tag_max_retries"),
        "tag_backoff_s": dbt.config.get("tag_backoff_s"),
        "weak_sentiment": dbt.config.get("weak_sentiment"),
    }
    reviews = dbt.ref("fct_reviews")
    this = str(dbt.this) if dbt.is_incremental else None
    weak = dbt.ref("weak_sentiment_model")  # the star-rating model, fitted before the evaluation snapshot
    run = RunLog(session, dbt.this)  # its tally goes to dbt's log and to table enrichment_runs
    return tag_reviews(reviews, tag_settings(config.get), this=this, weak=weak, run=run)
