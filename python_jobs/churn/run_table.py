"""The run registry table (dbt model ml.churn_model_runs): the one DAG node that owns the churn run.

churn_model_runs fits the run, or reuses the stored one when its content hash (labelled rows, features,
training settings, code version) is unchanged, and publishes one row per model of the run with the artifact's
path. churn_scores, churn_model_metrics and churn_model_curves ref() it and load the artifact from that path:
they never fit, and they cannot disagree about which run they describe.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from python_jobs.churn import registry
from python_jobs.churn.contracts import arrow_schema
from python_jobs.churn.fitted import ChurnRun
from python_jobs.churn.settings import training_settings

log = logging.getLogger(__name__)

MODEL = "churn_model_runs"


def runs_table(
    run: ChurnRun, fitted_now: bool, path: Path, inputs_fingerprint: str | None = None
) -> pa.Table:
    """One row per fitted model of the run: what it learned from, with which settings and code, where it is
    stored, and whether this build fitted it or reused it."""
    built_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    rows = []
    for (fs, kind), m in sorted(run.models.items()):
        rows.append(
            {
                "run_id": run.run_id,
                "model_id": m.model_id,
                "feature_set": fs,
                "model_kind": kind,
                "model_params": m.candidate.name,
                "is_selected": run.selected[fs] == kind,
                "is_champion": (fs, kind) == run.champion,
                "data_fingerprint": run.fingerprint,
                "training_settings": training_settings(run.settings),
                "code_version": registry.code_version(),
                "train_start_date": _date(run.window.get("train_start")),
                "train_end_date": _date(run.window.get("train_end")),
                "eval_snapshot_date": _date(run.window.get("test_snapshot")),
                "n_train_rows": run.n_rows.get("train"),
                "n_test_rows": run.n_rows.get("test"),
                "artifact_path": str(path),
                "run_status": "fitted" if fitted_now else "reused",
                "fit_wall_seconds": run.timings.get("total_wall_s"),
                "fit_cpu_seconds": run.timings.get("total_cpu_s"),
                "fit_timings": json.dumps(run.timings, sort_keys=True),
                "inputs_fingerprint": inputs_fingerprint,
                "built_at": built_at,
            }
        )
    return pa.Table.from_pylist(rows, schema=arrow_schema(MODEL))


def _date(iso: str | None) -> date | None:
    return date.fromisoformat(iso) if iso else None


def load_run(runs: Any) -> ChurnRun:
    """The run a churn_model_runs table (Arrow table or DuckDB relation) points at, loaded from its artifact."""
    table = runs if isinstance(runs, pa.Table) else runs.to_arrow_table()
    ids = set(table["run_id"].to_pylist())
    paths = set(table["artifact_path"].to_pylist())
    if len(ids) != 1 or len(paths) != 1:
        raise RuntimeError(f"{MODEL} must describe exactly one run, not {sorted(ids)} at {sorted(paths)}")
    (run_id,), (path,) = ids, paths
    if not Path(path).exists():
        raise FileNotFoundError(
            f"churn run {run_id} is missing at {path} (registry ml.{MODEL}): rebuild it with "
            f"`dbt build --select {MODEL}+`"
        )
    run = registry.load_artifact(Path(path))
    if run.run_id != run_id:
        raise RuntimeError(f"{path} holds run {run.run_id}, but ml.{MODEL} says {run_id}")
    return run
