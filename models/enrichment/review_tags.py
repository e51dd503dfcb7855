"""review_tags: one row per review with its tags (sentiment, topics, churn intent, ...) from var('tag_model').

Thin adapter: all logic is in python_jobs.text (redaction, cache, batching, retries, validation). Incremental:
only reviews that are new, changed (source_hash), or not yet tagged are re-tagged; delete+insert on review_id
merges them in and a post-hook (_enrichment__models.yml) drops reviews deleted upstream.
"""

from python_jobs.text.enrich import tag_reviews, tag_settings
from python_jobs.text.runs import RunLog


def model(dbt, session):
    reviews = dbt.ref("fct_reviews")
    this = str(dbt.this) if dbt.is_incremental else None
    weak = dbt.ref("weak_sentiment_model")  # the star-rating model, fitted before the evaluation snapshot
    run = RunLog(session, dbt.this)  # its tally goes to dbt's log and to table enrichment_runs
    return tag_reviews(reviews, tag_settings(dbt.config.get), this=this, weak=weak, run=run)
