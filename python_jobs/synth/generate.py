"""Orchestration: simulate blocks of customers and stream every table to Parquet."""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path

import numpy as np

from python_jobs.progress import Progress
from python_jobs.synth import campaigns as C
from python_jobs.synth import params as P
from python_jobs.synth.dirty import DEFAULT_SHARE, make_dirty
from python_jobs.synth.feedback import build_reviews, build_tickets
from python_jobs.synth.orders import build_orders
from python_jobs.synth.sessions import build_sessions
from python_jobs.synth.simulate import simulate_block
from python_jobs.synth.world import customer_tables, draw_traits
from python_jobs.synth.writer import TableWriters, ids

log = logging.getLogger(__name__)
DEFAULT_CHUNK = 25_000
EPOCH = datetime(1970, 1, 1)


def _start_us(start: str | date | datetime) -> int:
    if isinstance(start, str):
        start = datetime.fromisoformat(start)
    if not isinstance(start, datetime):
        start = datetime(start.year, start.month, start.day)
    return int((start.replace(tzinfo=None) - EPOCH).total_seconds()) * 1_000_000


def _rng(seed: int, block: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, block, stream]))


def generate_world(
    n_customers: int,
    seed: int,
    out_dir: str | Path,
    start: str | date | datetime = "2024-01-01",
    days: int = 730,
    chunk_size: int = DEFAULT_CHUNK,
    params: P.WorldParams | None = None,
    dirty_share: float = DEFAULT_SHARE,
    progress: bool = True,
) -> dict[str, int]:
    """Write the synthetic shop world to `out_dir/<table>.parquet`; return rows written per table.

    Deterministic for (seed, chunk_size): block b draws from SeedSequence([seed, b, stream]).
    Memory is bounded by `chunk_size` (one block of customers is simulated and written at a time).
    """
    wp = params or P.WorldParams()
    start_us = _start_us(start)
    end_us = start_us + days * P.US_PER_DAY
    camps = C.schedule(seed, start_us, days, wp)
    writers = TableWriters(Path(out_dir))
    base = dict.fromkeys(("order", "item", "red", "session", "review", "ticket", "iv"), 0)
    bar = Progress(n_customers, "generate", unit="customers") if progress else None
    try:
        for b, first in enumerate(range(0, n_customers, chunk_size)):
            n = min(chunk_size, n_customers - first)
            tr = draw_traits(_rng(seed, b, 0), first + 1, n, start_us, days, wp)
            res = simulate_block(_rng(seed, b, 1), tr, start_us, days, camps, wp)
            cust_ids = ids("C", tr.num)
            customers, truth_c = customer_tables(tr, cust_ids, res.sat_final, res.churn_us)
            orders, items, coupons = build_orders(
                _rng(seed, b, 2), res, tr, cust_ids, base["order"], base["item"], base["red"]
            )
            sessions = build_sessions(res, cust_ids, base["session"], end_us)
            reviews, truth_r = build_reviews(
                _rng(seed, b, 3), res, tr, cust_ids, base["order"], base["review"], end_us
            )
            tickets, truth_t = build_tickets(
                _rng(seed, b, 4), res, tr, cust_ids, base["order"], base["ticket"], end_us
            )
            ivs = C.intervention_table(camps, res.interventions, cust_ids, base["iv"])
            base["order"] += orders.num_rows
            base["item"] += items.num_rows
            base["red"] += coupons.num_rows
            base["session"] += sessions.num_rows
            base["review"] += reviews.num_rows
            base["ticket"] += tickets.num_rows
            base["iv"] += ivs.num_rows
            dirt = _rng(seed, b, 5)
            raw = {
                "customers": customers,
                "orders": orders,
                "order_items": items,
                "sessions": sessions,
                "coupon_redemptions": coupons,
                "reviews": reviews,
                "support_tickets": tickets,
                "interventions": ivs,
            }
            for name, tbl in raw.items():
                writers.write(name, make_dirty(name, tbl, dirt, dirty_share) if dirty_share > 0 else tbl)
            writers.write("truth_customers", truth_c)
            writers.write("truth_texts", truth_r)
            writers.write("truth_texts", truth_t)
            if bar:
                bar.update(n)
        writers.write("truth_campaigns", C.truth_table(camps))
    finally:
        rows = writers.close()
        if bar:
            bar.close()
    log.info("wrote %s to %s", ", ".join(f"{k}={v:,}" for k, v in rows.items()), out_dir)
    return rows
