"""Synthetic-world benchmark: wall time, peak memory and throughput of `generate_world`
at 100k and 1M customers (quick: 20k and 100k). Each case runs in a fresh spawned process so its
peak RSS (ru_maxrss) is its own; output goes to a temporary directory.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import resource
import tempfile
import time

log = logging.getLogger(__name__)


def _case(n_customers: int, queue: mp.Queue) -> None:
    from python_jobs.synth import generate_world

    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        rows = generate_world(n_customers, seed=42, out_dir=out, progress=False)
        seconds = time.perf_counter() - t0
    queue.put((seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, sum(rows.values())))


def measure(n_customers: int) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, rows written) of one generation in a fresh process."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_case, args=(n_customers, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def run(quick: bool) -> list[dict]:
    sizes = [20_000, 100_000] if quick else [100_000, 1_000_000]
    out: list[dict] = []
    for n in sizes:
        seconds, rss_mb, rows = measure(n)
        case = f"{n // 1000}k customers" if n < 1_000_000 else f"{n // 1_000_000}M customers"
        log.info("synth %s: %.1fs, %.0f MB peak, %s rows", case, seconds, rss_mb, f"{rows:,}")
        out += [
            {"area": "synth", "case": case, "metric": "seconds", "value": seconds, "unit": "s"},
            {"area": "synth", "case": case, "metric": "peak_rss_mb", "value": rss_mb, "unit": "MB"},
            {
                "area": "synth",
                "case": case,
                "metric": "rows_per_s",
                "value": rows / seconds,
                "unit": "rows/s",
            },
            {
                "area": "synth",
                "case": case,
                "metric": "customers_per_s",
                "value": n / seconds,
                "unit": "customers/s",
            },
        ]
    return out
