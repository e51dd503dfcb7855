"""The disk cache of runs: one pickled run (and its registry records) per run id."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from python_jobs.churn import registry
from python_jobs.churn.features import FeatureSpec
from python_jobs.churn.fitted import ChurnRun
from python_jobs.churn.fitting import fit
from python_jobs.churn.settings import Settings
from python_jobs.churn.splits import run_id_for

log = logging.getLogger(__name__)


def registry_records(run: ChurnRun) -> list[dict]:
    recs = []
    metrics = run.metrics.set_index("model_id")
    for (fs, kind), m in run.models.items():
        recs.append(
            {
                "model_id": m.model_id,
                "feature_set": fs,
                "kind": kind,
                "params": m.candidate.as_dict(),
                "seed": run.settings.seed,
                "code_version": registry.code_version(),
                "data_fingerprint": run.fingerprint,
                "training_window": run.window,
                "features": m.columns,
                "dropped_features": run.selections[fs].dropped,
                "is_selected": run.selected[fs] == kind,
                "is_champion": (fs, kind) == run.champion,
                "threshold": m.threshold,
                "calibration": m.calibration,
                "fit_rows": "training snapshots before the latest; calibrated out-of-time on the latest",
                "val_roc_auc": m.val_roc_auc,
                "test_metrics": {k: v for k, v in metrics.loc[m.model_id].items() if isinstance(v, float)},
                "notes": run.notes,
            }
        )
    return recs


def fit_or_reuse(
    frame: pd.DataFrame, specs: list[FeatureSpec], settings: Settings, model_dir: Path
) -> tuple[ChurnRun, bool, Path]:
    """(run, fitted now?, artifact path): the run stored under this content hash when there is one (0 fits),
    else a fresh fit saved there. The hash covers the labelled rows, features, training settings and code."""
    run_id, fingerprint = run_id_for(frame, specs, settings)
    path = registry.run_path(model_dir, run_id)
    cached = registry.load_run(model_dir, run_id)
    if cached is not None:
        log.info(
            "reused run %s (data fingerprint %s, unchanged training rows, settings and code): 0 model fits; "
            "artifact %s",
            run_id,
            fingerprint,
            path,
        )
        return cached, False, path
    log.info("no run %s in %s (data fingerprint %s): fitting", run_id, model_dir, fingerprint)
    run = fit(frame, specs, settings)
    registry.save_run(model_dir, run.run_id, run, registry_records(run))
    log.info(
        "fitted run %s in %.1f s wall, %.1f s CPU: %s",
        run.run_id,
        run.timings.get("total_wall_s", float("nan")),
        run.timings.get("total_cpu_s", float("nan")),
        {k: v for k, v in run.timings.items() if k.endswith("_wall_s")},
    )
    return run, True, path


def get_or_fit(
    frame: pd.DataFrame, specs: list[FeatureSpec], settings: Settings, model_dir: Path
) -> ChurnRun:
    """The cached run for this data window, features, settings and code version; trains on a miss."""
    return fit_or_reuse(frame, specs, settings, model_dir)[0]
