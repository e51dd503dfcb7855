"""ticket_tags: one row per support ticket with its tags from var('tag_model').

Thin adapter: all logic is in python_jobs.text (redaction, cache, batching, retries, validation). Tickets use
the lexicon tagger alone: the star-rating model fitted on reviews hurts on tickets (`churn eval-text`).
"""

from python_jobs.text.enrich import tag_settings, tag_tickets


def model(dbt, session):
    dbt.config(materialized="table")
    tickets = dbt.ref("fct_support_tickets").to_arrow_table()
    return tag_tickets(tickets, tag_settings(dbt.config.get))
