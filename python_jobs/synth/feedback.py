"""Review and support-ticket tables (plus their truth_texts rows) from simulated text events."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from python_jobs.synth import texts
from python_jobs.synth.simulate import SimResult
from python_jobs.synth.world import Traits
from python_jobs.synth.writer import ids, labels, ts

TICKET_CHANNELS = ("email", "chat", "phone")


def _truth(source: str, source_ids: pa.Array, t: dict[str, np.ndarray]) -> pa.Table:
    return pa.table(
        {
            "source": pa.array([source] * len(source_ids), pa.string()),
            "source_id": source_ids,
            "sentiment": t["truth_sentiment"],
            "sentiment_label": pa.array(t["truth_label"], pa.string()),
            "topics": pa.array(t["truth_topics"], pa.string()),
            "churn_intent": t["truth_churn_intent"],
            "language": pa.array(t["language"], pa.string()),
        }
    )


def _compose(
    kind: str,
    rng: np.random.Generator,
    tr: Traits,
    events: dict[str, np.ndarray],
    keep: np.ndarray,
    cust: np.ndarray,
) -> dict[str, np.ndarray]:
    """Texts for the kept review or ticket events, in the customer's language."""
    return texts.compose(
        kind,
        rng,
        tr.language[cust],
        events["sentiment"][keep],
        events["topic1"][keep],
        events["topic2"][keep],
        events["churn_intent"][keep],
    )


def build_reviews(
    rng: np.random.Generator,
    res: SimResult,
    tr: Traits,
    cust_ids: pa.Array,
    order_base: int,
    review_base: int,
    end_us: int,
) -> tuple[pa.Table, pa.Table]:
    r = res.reviews
    keep = np.flatnonzero(r["created_us"] < end_us)
    row = r["order_row"][keep]
    cust = res.orders["cust"][row]
    t = _compose("review", rng, tr, r, keep, cust)
    rid = ids("V", review_base + np.arange(len(keep)))
    reviews = pa.table(
        {
            "review_id": rid,
            "customer_id": cust_ids.take(pa.array(cust)),
            "order_id": ids("O", order_base + row),
            "created_at": ts(r["created_us"][keep]),
            "rating": t["rating"],
            "title": pa.array(t["title"], pa.string()),
            "body": pa.array(t["body"], pa.string()),
            "language": pa.array(t["language"], pa.string()),
        }
    )
    return reviews, _truth("review", rid, t)


def build_tickets(
    rng: np.random.Generator,
    res: SimResult,
    tr: Traits,
    cust_ids: pa.Array,
    order_base: int,
    ticket_base: int,
    end_us: int,
) -> tuple[pa.Table, pa.Table]:
    k = res.tickets
    keep = np.flatnonzero(k["created_us"] < end_us)
    keep = keep[np.argsort(k["created_us"][keep], kind="stable")]
    cust = k["cust"][keep]
    row = k["order_row"][keep]
    t = _compose("ticket", rng, tr, k, keep, cust)
    tid = ids("T", ticket_base + np.arange(len(keep)))
    tickets = pa.table(
        {
            "ticket_id": tid,
            "customer_id": cust_ids.take(pa.array(cust)),
            "order_id": ids("O", order_base + np.maximum(row, 0), mask=row < 0),
            "created_at": ts(k["created_us"][keep]),
            "channel": labels(TICKET_CHANNELS, k["channel"][keep]),
            "subject": pa.array(t["subject"], pa.string()),
            "body": pa.array(t["body"], pa.string()),
            "language": pa.array(t["language"], pa.string()),
        }
    )
    return tickets, _truth("ticket", tid, t)
