"""Churn benchmark: training (selection, calibration, evaluation) and scoring (probability, tiers, reasons)
time and peak memory on synthetic training-set frames of 100k and 1M customers (quick: 20k).

Each case runs in a fresh process so its peak RSS (ru_maxrss, frame included) is its own.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import resource
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

SNAPSHOTS = 12
EXTRA_FEATURES = 50  # the warehouse's training set has ~60 feature columns


def _cpu() -> float:
    """CPU seconds of this process: unlike wall time, not inflated when the shared machine is loaded."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _case(n_customers: int, queue: mp.Queue) -> None:
    from python_jobs.churn import demo_frame, features, run

    t0 = time.perf_counter()
    settings = run.Settings()
    # Training rows are capped the way the dbt adapter caps them in DuckDB (max_train_rows).
    frame = demo_frame.make_frame(
        n_customers=n_customers,
        n_snapshots=SNAPSHOTS,
        seed=0,
        n_extra_features=EXTRA_FEATURES,
        max_train_rows=settings.max_train_rows,
    )
    specs = features.specs_from_frame(demo_frame.make_specs_frame(EXTRA_FEATURES))
    t1, c1 = time.perf_counter(), _cpu()
    with tempfile.TemporaryDirectory() as model_dir:
        fitted = run.get_or_fit(frame, specs, settings, Path(model_dir))
    t2, c2 = time.perf_counter(), _cpu()
    rows = frame[frame["split"] == "score"]
    scores = run.score(fitted, rows)
    t3, c3 = time.perf_counter(), _cpu()
    hgb = fitted.models[(fitted.champion[0], "hgb")]
    sample = rows.head(100_000)
    from threadpoolctl import threadpool_limits

    from python_jobs.churn.reasons import contributions

    with threadpool_limits(limits=settings.n_threads):
        contributions(hgb.pipeline, "hgb", features.to_matrix(sample, hgb.columns), hgb.reference)
    t4 = time.perf_counter()
    queue.put(
        {
            "frame_rows": float(len(frame)),
            "train_rows_used": float((frame["split"] == "train").sum()),
            "n_features": float(len(fitted.champion_model.columns)),
            "frame_build_s": t1 - t0,
            "train_s": t2 - t1,
            "train_cpu_s": c2 - c1,
            "score_s": t3 - t2,
            "score_cpu_s": c3 - c2,
            "scored_rows": float(len(scores)),
            "tree_reason_rows": float(len(sample)),
            "tree_reasons_s": t4 - t3,
            "champion_is_hgb": float(fitted.champion_model.kind == "hgb"),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    )


UNITS = {"s": "s", "mb": "MB", "rows": "rows"}


def run(quick: bool) -> list[dict]:
    sizes = [20_000] if quick else [100_000, 1_000_000]
    rows: list[dict] = []
    ctx = mp.get_context("spawn")
    for n in sizes:
        queue = ctx.Queue()
        proc = ctx.Process(target=_case, args=(n, queue))
        proc.start()
        result = queue.get()
        proc.join()
        log.info("churn bench %d customers: %s", n, result)
        for metric, value in result.items():
            unit = UNITS.get(metric.rsplit("_", 1)[-1], "")
            rows.append(
                {"area": "churn", "case": f"{n}_customers", "metric": metric, "value": value, "unit": unit}
            )
    return rows
