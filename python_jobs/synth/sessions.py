"""The sessions table (web/app visits with login flag and cart adds) from simulated visit events."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from python_jobs.synth import params as P
from python_jobs.synth.simulate import SimResult
from python_jobs.synth.writer import ids, labels, ts


def build_sessions(res: SimResult, cust_ids: pa.Array, session_base: int, end_us: int) -> pa.Table:
    s = res.sessions
    keep = np.flatnonzero(s["started_us"] < end_us)
    order = keep[np.argsort(s["started_us"][keep], kind="stable")]
    return pa.table(
        {
            "session_id": ids("S", session_base + np.arange(len(order))),
            "customer_id": cust_ids.take(pa.array(s["cust"][order])),
            "started_at": ts(s["started_us"][order]),
            "device": labels(P.DEVICES, s["device"][order]),
            "is_login": s["is_login"][order],
            "page_views": s["page_views"][order],
            "cart_adds": s["cart_adds"][order],
        }
    )
