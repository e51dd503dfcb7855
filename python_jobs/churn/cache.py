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


def get_or_fit(
    frame: pd.DataFrame, specs: list[FeatureSpec], settings: Settings, model_dir: Path
) -> ChurnRun:
    """The cached run for this data window, features, settings and code version; trains on a miss."""
    run_id, _ = run_id_for(frame, specs, settings)
    cached = registry.load_run(model_dir, run_id)
    if cached is not None:
        log.info("run %s found in %s: not retraining", run_id, model_dir)
        return cached
    run = fit(frame, specs, settings)
    registry.save_run(model_dir, run.run_id, run, registry_records(run))
    return run
