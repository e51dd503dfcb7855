"""customer_segments: RFM-only and fused K-Means segments of the customers eligible at the as-of snapshot.

Thin adapter: all logic is in python_jobs.segments (unit-tested without dbt). The result is reused from var
model_dir when every input and setting is unchanged (python_jobs.segments.cache).
"""

from python_jobs.segments import segment_customers
from python_jobs.segments.cache import cached, segmentation_key
from python_jobs.warehouse import without_bookkeeping


def model(dbt, session):
    dbt.config(materialized="table")
    labels = dbt.ref("churn_labels")
    as_of = labels.aggregate("max(snapshot_date)").df().iloc[0, 0]
    at = f"snapshot_date = '{as_of}'::date"
    eligible = labels.filter(f"{at} and is_eligible").project("customer_id")
    frames = {
        "rfm": without_bookkeeping(dbt.ref("customer_rfm").filter(at)).join(eligible, "customer_id").df(),
        "activity": without_bookkeeping(dbt.ref("customer_activity").filter(at)).df(),
        "voice": without_bookkeeping(dbt.ref("customer_voice").filter(at)).df(),
        "scores": dbt.ref("churn_scores").df(),
    }
    settings = {
        # dbt passes only config keys it sees as literal dbt.config.get("...") calls
        "k_min": int(dbt.config.get("segment_k_min") or 3),
        "k_max": int(dbt.config.get("segment_k_max") or 8),
        "seed": int(dbt.config.get("random_seed") or 42),
    }
    key = segmentation_key(frames, settings)
    return cached(
        dbt.config.get("model_dir"),
        key,
        lambda: (
            segment_customers(
                frames["rfm"], frames["activity"], frames["voice"], frames["scores"], **settings
            ).assignments
        ),
    )
