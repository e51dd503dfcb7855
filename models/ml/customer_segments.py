"""customer_segments: RFM-only and fused K-Means segments of the customers eligible at the as-of snapshot.

Thin adapter: all logic is in python_jobs.segments (unit-tested without dbt). The result is reused from var
model_dir when every input and setting is unchanged (python_jobs.segments.cache); then no input row is read.
Churn scores are no input (rpt_segment_summary joins them).
"""

from python_jobs.segments import segment_customers
from python_jobs.segments.cache import cached, input_fingerprint, segmentation_key
from python_jobs.warehouse import without_bookkeeping


def model(dbt, session):
    dbt.config(materialized="table")
    # No wait for churn_scores (no input): segmenting then runs beside churn_training_set. 1M later nightly,
    # two pairs side by side: 134.6 / 133.0 s against 141.8 / 144.0 s when it ran after scoring on one core;
    # the bench's 1M full build peaked at 7.50 GiB (process tree) during text enrichment, not while both ran
    # (session 13 had them beside churn_scores: no gain, 7.78 GiB). docs/benchmarks/2026-12-04-session33.md.
    labels = dbt.ref("churn_labels")
    as_of = labels.aggregate("max(snapshot_date)").df().iloc[0, 0]
    at = f"snapshot_date = '{as_of}'::date"
    inputs = {
        "labels": labels.filter(at),
        "rfm": dbt.ref("customer_rfm").filter(at),
        "activity": dbt.ref("customer_activity").filter(at),
        "voice": dbt.ref("customer_voice").filter(at),
    }
    settings = {
        # dbt passes only config keys it sees as literal dbt.config.get("...") calls
        "k_min": int(dbt.config.get("segment_k_min") or 3),
        "k_max": int(dbt.config.get("segment_k_max") or 8),
        "seed": int(dbt.config.get("random_seed") or 42),
    }

    def segment():
        # Joined and ordered here, in DuckDB: each frame arrives with the eligible customers row for row, so
        # segment_customers neither sorts nor looks up 1M string ids (customer_id is unique at one snapshot).
        eligible = inputs["labels"].filter("is_eligible").project("customer_id")
        rfm = without_bookkeeping(inputs["rfm"]).join(eligible, "customer_id").order("customer_id")
        customers = rfm.project("customer_id")

        def aligned(name):
            return customers.join(without_bookkeeping(inputs[name]), "customer_id", how="left")

        frames = [rfm] + [aligned(name).order("customer_id") for name in ("activity", "voice")]
        return segment_customers(*(frame.df() for frame in frames), **settings).assignments

    key = segmentation_key({name: input_fingerprint(r) for name, r in inputs.items()}, settings)
    return cached(dbt.config.get("model_dir"), key, segment)
