"""What the dbt Python models in models/ml call: settings from model config, the run, typed tables.

churn_model_runs is the one node that fits (or reuses) the run (`fit_runs_table`); churn_scores,
churn_model_metrics and churn_model_curves load the artifact it records (`run_from_registry`) and never fit.
Tables are returned as Arrow with the columns and types of their contracts in models/ml/_ml__models.yml, read
from the YAML (contracts.py; dbt cannot enforce contracts on Python models, and the `churn_python_contract`
test checks the built types against the same YAML).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import asdict
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from python_jobs import config as config_paths
from python_jobs.churn import cache, features, registry, run, run_table, scoring
from python_jobs.churn.contracts import arrow_schema
from python_jobs.churn.settings import training_settings
from python_jobs.progress import announce
from python_jobs.warehouse import memory_limit_lowered, only_row, previous_table, without_bookkeeping
from python_jobs.worker_pool import holding_pool, submit_with_held, worker_result

log = logging.getLogger(__name__)


def _config_value(config: dict[str, Any], key: str, default: Any, cast: Callable[[Any], Any]) -> Any:
    """A model config value rendered from a dbt var; `default` when the var is null or empty."""
    raw = config.get(key)
    return default if raw in (None, "", "None") else cast(raw)


def settings_from_config(config: dict[str, Any]) -> tuple[run.Settings, Path]:
    """Model config values (rendered from dbt vars in the YAML) -> Settings and the model directory."""

    def value(key: str, default: Any, cast: Callable[[Any], Any]) -> Any:
        return _config_value(config, key, default, cast)

    settings = run.Settings(
        seed=value("random_seed", 42, int),
        risk_high_cut=value("risk_high_cut", scoring.DEFAULT_HIGH_CUT, float),
        risk_medium_cut=value("risk_medium_cut", scoring.DEFAULT_MEDIUM_CUT, float),
        max_train_rows=value("max_train_rows", 400_000, int),
        n_boot=value("n_boot", 500, int),
        max_boot_rows=value("max_boot_rows", 20_000, int),
        n_threads=value("n_threads", 1, int),
    )
    model_dir = value("model_dir", "", str)
    if not model_dir or "{{" in model_dir:  # var('model_dir') holds an env_var template dbt left unrendered
        return settings, config_paths.model_dir()
    return settings, Path(model_dir).expanduser().resolve()


def fit_runs_table(
    relation: Any,
    feature_seed: pd.DataFrame,
    config: dict[str, Any],
    previous: Any = None,
    session: duckdb.DuckDBPyConnection | None = None,
) -> pa.Table:
    """churn_model_runs: fit the run on the labelled rows of churn_training_set (or reuse it), one row per model.
    Score rows are not read: the as-of snapshot moves every day and plays no part in the run.

    `previous` (the last build's churn_model_runs relation, if any): when its inputs_fingerprint equals this
    build's (labelled_inputs_fingerprint), its run is reused without reading a training row; otherwise the
    rows are read and their content hash (run_id) decides, so a code change upstream that leaves the rows
    unchanged still reuses the run. `session` (the model's DuckDB) is held to the config's fit_duckdb_memory
    while the training rows are read and the run is fitted, so its cache does not sit beside their memory."""
    settings, model_dir = settings_from_config(config)
    specs = features.specs_from_frame(feature_seed)
    inputs = labelled_inputs_fingerprint(relation, specs, settings)
    unchanged = last_run_if_unchanged(previous, inputs, model_dir)
    if unchanged is not None:
        fitted, path = unchanged
        announce(
            f"churn_model_runs: reused run {fitted.run_id} (the labelled snapshots' inputs, features, settings and "
            f"code are those of the last build): 0 model fits, 0 training rows read"
        )
        return run_table.runs_table(fitted, False, path, inputs)
    fit_memory = _config_value(config, "fit_duckdb_memory", None, str)
    # Lowered before the rows are read, not only for the fit: read beside a full cache, the labelled rows (and
    # the blocks their scan cached) stacked on it (1M full build: the build's peak, 7.58 GiB, in that read).
    with memory_limit_lowered(
        session, fit_memory, _config_value(config, "duckdb_memory_limit", None, str)
    ) as give_back_freed:
        labelled = training_frame(relation.filter("split in ('train', 'test')"), config)
        give_back_freed()  # the read's freed buffers, else resident through the fit (1M: +1.2 GiB)
        fitted, fitted_now, path = cache.fit_or_reuse(labelled, specs, settings, model_dir)
    if fitted_now:
        t = fitted.timings
        announce(
            f"churn_model_runs: fitted run {fitted.run_id} on {fitted.n_rows['train']} training rows in "
            f"{t['total_wall_s']:.1f} s wall, {t['total_cpu_s']:.1f} s CPU -> {path}"
        )
    else:
        announce(
            f"churn_model_runs: reused run {fitted.run_id} (data fingerprint {fitted.fingerprint}, training rows, "
            f"settings and code unchanged): 0 model fits"
        )
    return run_table.runs_table(fitted, fitted_now, path, inputs)


def labelled_inputs_fingerprint(
    relation: Any, specs: list[features.FeatureSpec], settings: run.Settings
) -> str | None:
    """A hash of what the labelled rows were computed from: each train/test snapshot's inputs_fingerprint
    (incremental marts, macros/incremental_by_snapshot.sql), the features, training settings and code. None
    when the table carries no fingerprints."""
    if "inputs_fingerprint" not in relation.columns:
        return None
    snapshots = (
        relation.filter("split in ('train', 'test')")
        .project("split, cast(snapshot_date as varchar) as snapshot_date, inputs_fingerprint")
        .distinct()
        .order("snapshot_date, split, inputs_fingerprint")
        .fetchall()
    )
    return registry.stable_hash(
        {
            "snapshots": [list(row) for row in snapshots],
            "specs": [asdict(s) for s in specs],
            "settings": training_settings(settings),
            "code": registry.code_version(),
        }
    )


def last_run_if_unchanged(
    previous: Any, inputs: str | None, model_dir: Path
) -> tuple[run.ChurnRun, Path] | None:
    """The last build's run when it recorded these inputs and is still stored under model_dir."""
    if previous is None or inputs is None or "inputs_fingerprint" not in previous.columns:
        return None
    recorded = previous.project("inputs_fingerprint, run_id").distinct().fetchall()
    if len(recorded) != 1 or recorded[0][0] != inputs:
        return None
    stored = registry.load_run(model_dir, recorded[0][1])
    return None if stored is None else (stored, registry.run_path(model_dir, recorded[0][1]))


def run_from_registry(runs: Any) -> run.ChurnRun:
    """The run ml.churn_model_runs recorded, loaded from its artifact path."""
    return run_table.load_run(runs)


def training_frame(relation: Any, config: dict[str, Any]) -> pd.DataFrame:
    """churn_training_set as pandas, with training rows capped in DuckDB before anything reaches Python.

    At 1M customers the training split has ~10M rows; a deterministic hash sample of (customer, snapshot)
    keeps max_train_rows of them (test and score rows are never sampled), so memory stays bounded.
    """
    settings, _ = settings_from_config(config)
    relation = without_bookkeeping(relation)
    (n_train,) = only_row(relation.filter("split = 'train'").aggregate("count(*)"))
    if n_train <= settings.max_train_rows:
        return relation.df()
    keep = int(settings.max_train_rows / n_train * 1_000_003)
    log.info("training rows capped in DuckDB: ~%d of %d", settings.max_train_rows, n_train)
    key = "hash(customer_id || '|' || cast(snapshot_date as varchar))"
    return relation.filter(f"split <> 'train' or {key} % 1000003 < {keep}").df()


def _table(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    frame = frame.copy()
    for f in schema:
        if f.name not in frame:
            frame[f.name] = None
        if pa.types.is_date32(f.type):
            frame[f.name] = pd.to_datetime(frame[f.name]).dt.date
        elif pa.types.is_int64(f.type):
            frame[f.name] = pd.to_numeric(frame[f.name]).round().astype("Int64")
        elif pa.types.is_floating(f.type):
            frame[f.name] = pd.to_numeric(frame[f.name]).astype("float64").replace([np.inf, -np.inf], np.nan)
    return pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)


# Measured on the 1M world's 625k score rows (2026-12-02, nothing else running): one process 21.6 s with
# batches of 100k, 21.0 s with 25k; two processes 17.4-18.1 s with 25k, 18.3-18.5 s with 50k, 20.1-20.5 s with
# 100k (the last round of batches leaves a worker idle), 19.8 s with 10k.
SCORE_BATCH_ROWS = 25_000
MIN_ROWS_PER_SCORE_PROCESS = 100_000  # a process costs ~2 s to start (imports and the run)


def score_processes(n_rows: int) -> int:
    """Processes that score batches side by side: CHURN_SCORE_PROCESSES, default one per core, each with at
    least MIN_ROWS_PER_SCORE_PROCESS rows."""
    wanted = int(os.environ.get("CHURN_SCORE_PROCESSES") or os.cpu_count() or 1)
    return max(1, min(wanted, n_rows // MIN_ROWS_PER_SCORE_PROCESS))


def scores_table(
    fitted: run.ChurnRun,
    rows: Any,
    config: dict[str, Any],
    batch_rows: int = SCORE_BATCH_ROWS,
    previous: pd.DataFrame | None = None,
) -> pa.Table:
    """churn_scores from the score rows: a DataFrame (its 'score' split), or a DuckDB relation of score rows,
    read and scored in batches of batch_rows so memory holds a few batches of features, not the whole set (a
    row's score depends on that row alone: run.score). With enough rows (score_processes) the batches are
    scored in worker processes while this one reads the next; the parts keep the batches' order.

    A score row whose fingerprint (score_fingerprints) is that of a row of `previous`, the last build's
    churn_scores, would be scored to that same row: it is taken from there, so a rebuild without new data
    scores nothing."""
    settings = settings_from_config(config)[0]
    schema = arrow_schema("churn_scores")
    if isinstance(rows, pd.DataFrame):
        batches: Iterator[pd.DataFrame] = iter([rows[rows["split"] == "score"]])
        processes = 1
    else:  # run.score's order, across batches
        batches = _batches(without_bookkeeping(rows).order(", ".join(run.KEYS)), batch_rows)
        processes = score_processes(only_row(rows.aggregate("count(*)"))[0])
    known = (
        None
        if previous is None
        else previous.drop_duplicates("inputs_fingerprint").set_index("inputs_fingerprint")
    )
    pool = None
    parts: list[pa.Table | Future] = []
    reused = 0
    try:
        for batch in batches:
            batch = batch.drop(columns=["inputs_fingerprint"], errors="ignore").reset_index(drop=True)
            fingerprints = score_fingerprints(fitted, batch, settings)
            again = fingerprints.isin(known.index) if known is not None else np.zeros(len(batch), dtype=bool)
            if again.any():
                parts.append(_table(known.loc[fingerprints[again]].reset_index(), schema))
                reused += int(again.sum())
            if again.all():
                continue
            todo = (batch[~again], settings, fingerprints[~again])
            # a few changed rows per batch (an incremental rebuild) do not repay starting the processes
            if pool is None and (processes == 1 or len(todo[0]) < batch_rows // 2):
                parts.append(scored_batch(fitted, *todo))
                continue
            pool = pool or holding_pool(fitted, processes)
            in_flight = [p for p in parts if isinstance(p, Future) and not p.done()]
            if len(in_flight) > processes:  # bound the batches waiting in memory
                wait(in_flight, return_when=FIRST_COMPLETED)
            parts.append(submit_with_held(pool, scored_batch, *todo, 1))
        parts = [worker_result(p, "CHURN_SCORE_PROCESSES") if isinstance(p, Future) else p for p in parts]
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    if previous is not None:
        total = sum(p.num_rows for p in parts)
        announce(
            f"churn_scores: {reused:,} of {total:,} rows unchanged since the last build (taken from it), "
            f"{total - reused:,} scored"
        )
    return pa.concat_tables(parts) if parts else _table(pd.DataFrame(columns=schema.names), schema)


def scored_batch(
    fitted: run.ChurnRun,
    rows: pd.DataFrame,
    settings: run.Settings,
    fingerprints: pd.Series,
    workers: int | None = None,
) -> pa.Table:
    """churn_scores rows of one batch, each with the fingerprint of the row it was scored from."""
    scored = run.score(fitted, rows, settings, workers=workers)
    by_customer = pd.Series(fingerprints.to_numpy(), index=rows["customer_id"].astype(str))
    scored["inputs_fingerprint"] = scored["customer_id"].map(by_customer)
    return _table(scored, arrow_schema("churn_scores"))


def score_fingerprints(fitted: run.ChurnRun, rows: pd.DataFrame, settings: run.Settings) -> pd.Series:
    """Per score row, a hash of all it is scored from: its columns (floats at ~12 significant digits), the run
    (training data, models and the churn package's code: run_id) and the tier cuts."""
    salt = registry.stable_hash(
        {"run_id": fitted.run_id, "high": settings.risk_high_cut, "medium": settings.risk_medium_cut}
    )
    columns = [c for c in rows.columns if c not in ("split", run.LABEL)]
    hashed = registry.row_hashes(rows, columns) ^ np.uint64(int(salt, 16))
    hex_digits = np.frombuffer(hashed.astype(">u8").tobytes().hex().encode(), dtype="S16")
    return pd.Series(hex_digits.astype(str), index=rows.index)


def previous_scores(session: Any, this: Any, rows: Any) -> pd.DataFrame | None:
    """The last build's churn_scores of the snapshots in `rows` (the score rows) when this session holds them
    with row fingerprints (DuckDB; a job on another engine holds no earlier table and scores every row). Rows
    of another snapshot are not read: the snapshot is hashed into the fingerprint, so none of them could match
    (a nightly build moves the snapshot and rescores everyone)."""
    relation = previous_table(session, this)
    if relation is None or "inputs_fingerprint" not in relation.columns:
        return None
    low, high = only_row(rows.aggregate("min(snapshot_date), max(snapshot_date)"))
    if low is None:
        return relation.limit(0).df()
    return relation.filter(f"snapshot_date between date '{low}' and date '{high}'").df()


def _batches(relation: Any, batch_rows: int) -> Iterator[pd.DataFrame]:
    """The relation's rows as DataFrames of batch_rows rows (one query, streamed as Arrow batches). Each
    batch becomes a DataFrame through a private in-memory DuckDB, so its dtypes are those of relation.df()."""
    convert = duckdb.connect()
    try:
        for batch in relation.to_arrow_reader(batch_rows):
            yield convert.from_arrow(batch).df()
    finally:
        convert.close()


def metrics_table(fitted: run.ChurnRun, config: dict[str, Any] | None = None) -> pa.Table:
    m = fitted.metrics.rename(columns={"auc_diff": "auc_diff_vs_baseline"}).assign(split="test")
    dropped = {fs: sel.dropped for fs, sel in fitted.selections.items()}
    m["dropped_features"] = [
        ",".join(f"{k}:{v}" for k, v in dropped.get(fs, {}).items()) or None for fs in m["feature_set"]
    ]
    m["n_negative"] = m["n_rows"] - m["n_positive"]
    m = pd.concat([m, sufficiency(m, **evaluation_minimums(config or {}))], axis=1)
    m["run_note"] = fitted.notes.get("enhanced")
    return _table(m, arrow_schema("churn_model_metrics"))


def evaluation_minimums(config: dict[str, Any]) -> dict[str, float]:
    """vars eval_min_positives / eval_min_negatives / eval_max_auc_ci_width (defaults 50 / 50 / 0.10)."""
    return {
        "min_positives": _config_value(config, "eval_min_positives", 50.0, float),
        "min_negatives": _config_value(config, "eval_min_negatives", 50.0, float),
        "max_ci_width": _config_value(config, "eval_max_auc_ci_width", 0.10, float),
    }


def sufficiency(
    m: pd.DataFrame, min_positives: float, min_negatives: float, max_ci_width: float
) -> pd.DataFrame:
    """Can the test snapshot support these numbers? Too few churners or non-churners, or a ROC-AUC CI wider
    than max_ci_width, make a row untrustworthy; the note says which, in words."""
    notes = []
    for pos, neg, lo, hi in m[["n_positive", "n_negative", "roc_auc_ci_low", "roc_auc_ci_high"]].itertuples(
        index=False
    ):
        why = []
        if pos < min_positives:
            why.append(f"only {int(pos)} churners on the test snapshot (minimum {int(min_positives)})")
        if neg < min_negatives:
            why.append(f"only {int(neg)} non-churners on the test snapshot (minimum {int(min_negatives)})")
        if np.isfinite(lo) and hi - lo > max_ci_width:
            why.append(f"ROC-AUC 95% CI is {hi - lo:.3f} wide (maximum {max_ci_width:.3f})")
        notes.append("; ".join(why) + ": treat these metrics as indicative only" if why else None)
    return pd.DataFrame(
        {"is_evaluation_sufficient": [n is None for n in notes], "evaluation_note": notes}, index=m.index
    )


def curves_table(fitted: run.ChurnRun) -> pa.Table:
    return _table(fitted.curves, arrow_schema("churn_model_curves"))
