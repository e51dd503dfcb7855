"""Orchestration: simulate cells of customers and stream every table to Parquet.

Customers are simulated in fixed cells of CELL customers, each with its own random streams
(SeedSequence([seed, cell, stream])), and ids are numbered in cell order, so the content of a world
depends on the seed only. `chunk_size` just sets how many customers' rows are buffered per Parquet
row group (memory), not what is generated.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from python_jobs.progress import Progress
from python_jobs.synth import campaigns as C
from python_jobs.synth import params as P
from python_jobs.synth.dirty import DEFAULT_SHARE, make_dirty
from python_jobs.synth.feedback import build_reviews, build_tickets
from python_jobs.synth.orders import build_orders
from python_jobs.synth.sessions import build_sessions
from python_jobs.synth.simulate import simulate_block
from python_jobs.synth.world import customer_tables, draw_traits
from python_jobs.synth.writer import RAW_TABLES, TableWriters, ids

log = logging.getLogger(__name__)
CELL = 5_000  # customers per random-stream cell: part of the world's definition, do not change lightly
DEFAULT_CHUNK = 25_000
# id counter -> the table whose rows it numbers (ids stay unique across cells)
COUNTERS = {
    "order": "orders",
    "item": "order_items",
    "red": "coupon_redemptions",
    "session": "sessions",
    "review": "reviews",
    "ticket": "support_tickets",
    "iv": "interventions",
}
EPOCH = datetime(1970, 1, 1)


def _start_us(start: str | date | datetime) -> int:
    if isinstance(start, str):
        start = datetime.fromisoformat(start)
    if not isinstance(start, datetime):
        start = datetime(start.year, start.month, start.day)
    return int((start.replace(tzinfo=None) - EPOCH).total_seconds()) * 1_000_000


def _rng(seed: int, block: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, block, stream]))


def _cell_tables(
    seed: int,
    b: int,
    first: int,
    n: int,
    start_us: int,
    days: int,
    camps: list[C.Campaign],
    wp: P.WorldParams,
    base: dict[str, int],
) -> dict[str, pa.Table]:
    """Simulate cell b (customers first+1 .. first+n) and build its tables; advances the id counters."""
    end_us = start_us + days * P.US_PER_DAY
    tr = draw_traits(_rng(seed, b, 0), first + 1, n, start_us, days, wp)
    res = simulate_block(_rng(seed, b, 1), tr, start_us, days, camps, wp)
    cust_ids = ids("C", tr.num)
    customers, truth_c = customer_tables(tr, cust_ids, res.sat_final, res.churn_us)
    orders, items, coupons = build_orders(
        _rng(seed, b, 2), res, tr, cust_ids, base["order"], base["item"], base["red"]
    )
    reviews, truth_r = build_reviews(
        _rng(seed, b, 3), res, tr, cust_ids, base["order"], base["review"], end_us
    )
    tickets, truth_t = build_tickets(
        _rng(seed, b, 4), res, tr, cust_ids, base["order"], base["ticket"], end_us
    )
    out = {
        "customers": customers,
        "orders": orders,
        "order_items": items,
        "sessions": build_sessions(res, cust_ids, base["session"], end_us),
        "coupon_redemptions": coupons,
        "reviews": reviews,
        "support_tickets": tickets,
        "interventions": C.intervention_table(camps, res.interventions, cust_ids, base["iv"]),
        "truth_customers": truth_c,
        "truth_texts": pa.concat_tables([truth_r, truth_t]),
    }
    for key, table in COUNTERS.items():
        base[key] += out[table].num_rows
    return out


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

    Deterministic for the seed (the same content for any `chunk_size`). Memory is bounded by
    `chunk_size` customers' rows plus one cell's simulation. Files appear atomically when the run
    finishes; a failed run leaves the previous world in place.
    """
    wp = params or P.WorldParams()
    start_us = _start_us(start)
    camps = C.schedule(seed, start_us, days, wp)
    writers = TableWriters(Path(out_dir))
    base = dict.fromkeys(COUNTERS, 0)
    bar = Progress(n_customers, "generate", unit="customers") if progress else None
    buffer: dict[str, list[pa.Table]] = {}
    buffered = 0
    try:
        for cell, first in enumerate(range(0, n_customers, CELL)):
            n = min(CELL, n_customers - first)
            tables = _cell_tables(seed, cell, first, n, start_us, days, camps, wp, base)
            dirt = _rng(seed, cell, 5)
            for name, tbl in tables.items():
                if name in RAW_TABLES and dirty_share > 0:
                    tbl = make_dirty(name, tbl, dirt, dirty_share)
                buffer.setdefault(name, []).append(tbl)
            buffered += n
            if buffered >= chunk_size or first + n >= n_customers:
                for name, parts in buffer.items():
                    writers.write(name, pa.concat_tables(parts))
                buffer, buffered = {}, 0
            if bar:
                bar.update(n)
        writers.write("truth_campaigns", C.truth_table(camps))
    except BaseException:
        writers.abort()
        raise
    rows = writers.close()
    if bar:
        bar.close()
    log.info("wrote %s to %s", ", ".join(f"{k}={v:,}" for k, v in rows.items()), out_dir)
    return rows
