"""customer_voice_embedding_pcs: per customer and snapshot T, principal components of the mean embedding of
the customer's reviews created before T; the components are fitted on training snapshots only.

Thin adapter over python_jobs.text.voice. Incremental by snapshot: only snapshots whose inputs_fingerprint the
table does not hold are computed, and delete+insert by snapshot_date replaces their rows. Rows of a snapshot
that gives no new rows and whose fingerprint is no longer current (it left the spine, or its reviews are gone)
are outdated: they are deleted here, once the new rows are computed (dbt-duckdb runs a Python model outside a
transaction, so a failure before this point leaves the table as it was). The fitted basis and each text's
projection are kept under var model_dir, so a build projects only texts it has not seen.
"""

from python_jobs.text.voice import built_fingerprints, outdated_rows, voice_pcs_from_relations


def model(dbt, session):
    dbt.config(materialized="incremental", unique_key="snapshot_date", incremental_strategy="delete+insert")
    # dbt hands a Python model only the config keys named in literal dbt.config.get("...") calls
    settings = {
        "voice_pc_components": dbt.config.get("voice_pc_components"),
        "random_seed": dbt.config.get("random_seed"),
        # the stored basis and projections (python_jobs.text.voice_cache)
        "model_dir": dbt.config.get("model_dir"),
    }
    built = built_fingerprints(session, dbt.this) if dbt.is_incremental else None
    rows, current = voice_pcs_from_relations(
        dbt.ref("review_embeddings"), dbt.ref("int_snapshot_spine").df(), settings.get, built
    )
    if built is not None and not built.issubset(current):
        session.execute(f"delete from {dbt.this} where {outdated_rows(rows, current)}").fetchall()
    return rows
