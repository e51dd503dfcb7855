"""ticket_tags: one row per support ticket with its tags from var('tag_model').

Thin adapter: all logic is in python_jobs.text (redaction, cache, batching, retries, validation). Tickets use
the lexicon tagger alone: the star-rating model fitted on reviews hurts on tickets (`churn eval-text`).
Incremental like review_tags: only new, changed or untagged tickets are re-tagged.
"""

from python_jobs.text.enrich import tag_settings, tag_tickets
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
    }
    tickets = dbt.ref("fct_support_tickets")
    this = str(dbt.this) if dbt.is_incremental else None
    run = RunLog(session, dbt.this)  # its tally goes to dbt's log and to table enrichment_runs
    return tag_tickets(tickets, tag_settings(config.get), this=this, run=run)
