"""review_tags: one row per review with its tags (sentiment, topics, churn intent, ...) from var('tag_model').

Thin adapter: all logic is in python_jobs.text (redaction, cache, batching, retries, validation).
"""

from python_jobs.text.enrich import tag_reviews, tag_settings


def model(dbt, session):
    dbt.config(materialized="table")
    reviews = dbt.ref("fct_reviews").to_arrow_table()
    return tag_reviews(reviews, tag_settings(dbt.config.get))
