"""What the dbt Python models in models/ml call: settings from model config, one cached run, typed tables.

The three dbt models churn_scores, churn_model_metrics and churn_model_curves each call `run_from_dbt`; the run
is content-addressed (registry.py), so only the first of them trains and the other two load the artifact.
Tables are returned as Arrow with explicit types matching models/ml/_ml__models.yml (dbt cannot enforce
contracts on Python models; the `churn_python_contract` test checks the built types against the YAML).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from python_jobs import config as config_paths
from python_jobs.churn import features, run, scoring

log = logging.getLogger(__name__)

SCORES_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("snapshot_date", pa.date32()),
        ("churn_probability", pa.float64()),
        ("risk_tier", pa.string()),
        ("risk_tier_rule", pa.string()),
        ("spend_rate", pa.float64()),
        ("revenue_at_risk", pa.float64()),
        ("reason_1", pa.string()),
        ("reason_1_feature", pa.string()),
        ("reason_2", pa.string()),
        ("reason_2_feature", pa.string()),
        ("reason_3", pa.string()),
        ("reason_3_feature", pa.string()),
        ("model_id", pa.string()),
        ("feature_set", pa.string()),
        ("model_kind", pa.string()),
        ("run_id", pa.string()),
    ]
)

METRICS_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("model_id", pa.string()),
        ("feature_set", pa.string()),
        ("model_kind", pa.string()),
        ("model_params", pa.string()),
        ("n_features", pa.int64()),
        ("is_selected", pa.bool_()),
        ("is_champion", pa.bool_()),
        ("split", pa.string()),
        ("eval_snapshot_date", pa.date32()),
        ("train_start_date", pa.date32()),
        ("train_end_date", pa.date32()),
        ("val_roc_auc", pa.float64()),
        ("n_rows", pa.int64()),
        ("n_positive", pa.int64()),
        ("base_rate", pa.float64()),
        ("roc_auc", pa.float64()),
        ("pr_auc", pa.float64()),
        ("top_decile_lift", pa.float64()),
        ("top_decile_capture", pa.float64()),
        ("brier", pa.float64()),
        ("log_loss", pa.float64()),
        ("threshold", pa.float64()),
        ("precision", pa.float64()),
        ("recall", pa.float64()),
        ("f1", pa.float64()),
        ("tp", pa.int64()),
        ("fp", pa.int64()),
        ("tn", pa.int64()),
        ("fn", pa.int64()),
        ("reference_model_id", pa.string()),
        ("auc_diff_vs_baseline", pa.float64()),
        ("auc_diff_ci_low", pa.float64()),
        ("auc_diff_ci_high", pa.float64()),
        ("auc_diff_p_le_0", pa.float64()),
        ("n_boot", pa.int64()),
        ("active_n_rows", pa.int64()),
        ("active_base_rate", pa.float64()),
        ("active_roc_auc", pa.float64()),
        ("active_auc_diff_vs_baseline", pa.float64()),
        ("active_auc_diff_ci_low", pa.float64()),
        ("active_auc_diff_ci_high", pa.float64()),
        ("dropped_features", pa.string()),
        ("n_negative", pa.int64()),
        ("roc_auc_ci_low", pa.float64()),
        ("roc_auc_ci_high", pa.float64()),
        ("best_peer_model_id", pa.string()),
        ("auc_diff_vs_best_peer", pa.float64()),
        ("auc_diff_vs_best_peer_ci_low", pa.float64()),
        ("auc_diff_vs_best_peer_ci_high", pa.float64()),
        ("is_evaluation_sufficient", pa.bool_()),
        ("evaluation_note", pa.string()),
        ("run_note", pa.string()),
    ]
)

CURVES_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("model_id", pa.string()),
        ("feature_set", pa.string()),
        ("model_kind", pa.string()),
        ("curve", pa.string()),
        ("point", pa.int64()),
        ("x", pa.float64()),
        ("y", pa.float64()),
        ("threshold", pa.float64()),
        ("n", pa.int64()),
    ]
)


def settings_from_config(config: dict[str, Any]) -> tuple[run.Settings, Path]:
    """Model config values (rendered from dbt vars in the YAML) -> Settings and the model directory."""

    def value(key: str, default: Any, cast: Callable[[Any], Any]) -> Any:
        raw = config.get(key)
        return default if raw in (None, "", "None") else cast(raw)

    settings = run.Settings(
        seed=value("random_seed", 42, int),
        risk_high_cut=value("risk_high_cut", scoring.DEFAULT_HIGH_CUT, float),
        risk_medium_cut=value("risk_medium_cut", scoring.DEFAULT_MEDIUM_CUT, float),
        max_train_rows=value("max_train_rows", 400_000, int),
        n_boot=value("n_boot", 500, int),
        n_threads=value("n_threads", 1, int),
    )
    model_dir = value("model_dir", "", str)
    if not model_dir or "{{" in model_dir:  # var('model_dir') holds an env_var template dbt left unrendered
        return settings, config_paths.model_dir()
    return settings, Path(model_dir).expanduser().resolve()


def run_from_dbt(training: pd.DataFrame, feature_seed: pd.DataFrame, config: dict[str, Any]) -> run.ChurnRun:
    """The cached (or freshly trained) run for these rows, registry and settings."""
    settings, model_dir = settings_from_config(config)
    specs = features.specs_from_frame(feature_seed)
    return run.get_or_fit(training, specs, settings, model_dir)


def training_frame(relation: Any, config: dict[str, Any]) -> pd.DataFrame:
    """churn_training_set as pandas, with training rows capped in DuckDB before anything reaches Python.

    At 1M customers the training split has ~10M rows; a deterministic hash sample of (customer, snapshot)
    keeps max_train_rows of them (test and score rows are never sampled), so memory stays bounded.
    """
    settings, _ = settings_from_config(config)
    n_train = relation.filter("split = 'train'").aggregate("count(*)").fetchone()[0]
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


def scores_table(fitted: run.ChurnRun, training: pd.DataFrame, config: dict[str, Any]) -> pa.Table:
    rows = training[training["split"] == "score"]
    return _table(run.score(fitted, rows, settings_from_config(config)[0]), SCORES_SCHEMA)


def metrics_table(fitted: run.ChurnRun, config: dict[str, Any] | None = None) -> pa.Table:
    m = fitted.metrics.rename(columns={"auc_diff": "auc_diff_vs_baseline"}).assign(split="test")
    dropped = {fs: sel.dropped for fs, sel in fitted.selections.items()}
    m["dropped_features"] = [
        ",".join(f"{k}:{v}" for k, v in dropped.get(fs, {}).items()) or None for fs in m["feature_set"]
    ]
    m["n_negative"] = m["n_rows"] - m["n_positive"]
    m = pd.concat([m, sufficiency(m, **evaluation_minimums(config or {}))], axis=1)
    m["run_note"] = fitted.notes.get("enhanced")
    return _table(m, METRICS_SCHEMA)


def evaluation_minimums(config: dict[str, Any]) -> dict[str, float]:
    """vars eval_min_positives / eval_min_negatives / eval_max_auc_ci_width (defaults 50 / 50 / 0.10)."""
    defaults = {"min_positives": 50, "min_negatives": 50, "max_ci_width": 0.10}
    keys = {
        "min_positives": "eval_min_positives",
        "min_negatives": "eval_min_negatives",
        "max_ci_width": "eval_max_auc_ci_width",
    }
    return {
        k: float(config[v]) if config.get(v) not in (None, "", "None") else d
        for (k, d), v in zip(defaults.items(), keys.values(), strict=True)
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
    return _table(fitted.curves, CURVES_SCHEMA)


def check_same_run(fitted: run.ChurnRun, scored_run_ids: set[str]) -> None:
    """Metrics and curves must describe the run that produced churn_scores (empty scores: nothing to check)."""
    if scored_run_ids and scored_run_ids != {fitted.run_id}:
        raise RuntimeError(f"churn_scores came from run(s) {sorted(scored_run_ids)}, not {fitted.run_id}")
