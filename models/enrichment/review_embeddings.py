"""review_embeddings: one row per review with its embedding (FLOAT[d]) from var('embedding_model').

Thin adapter: all logic is in python_jobs.text (redaction, cache, embed_multi batches).
"""

from python_jobs.text.enrich import embed_reviews, embed_settings


def model(dbt, session):
    dbt.config(materialized="table")
    reviews = dbt.ref("fct_reviews").to_arrow_table()
    return embed_reviews(reviews, embed_settings(dbt.config.get))
