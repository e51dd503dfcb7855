"""The evaluation tables: one metric row and one curve set per model and peer on the test snapshot."""

from __future__ import annotations

import numpy as np
import pandas as pd

from python_jobs.churn import evaluate
from python_jobs.churn.active import active_rows
from python_jobs.churn.fitted import FittedModel
from python_jobs.churn.settings import LABEL, PEERS, Settings


def model_rows(
    run_models: dict[tuple[str, str], FittedModel],
    test: pd.DataFrame,
    selected: dict[str, str],
    champion: tuple[str, str],
    settings: Settings,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    y = test[LABEL].astype(int).to_numpy()
    metric_rows, curve_parts = [], []
    scores: dict[str, np.ndarray] = {}
    for (fs, kind), m in run_models.items():
        p = m.predict_proba(test)
        scores[m.model_id] = p
        metric_rows.append(
            {
                "model_id": m.model_id,
                "feature_set": fs,
                "model_kind": kind,
                "model_params": m.candidate.name,
                "n_features": float(len(m.columns)),
                "is_selected": selected[fs] == kind,
                "is_champion": (fs, kind) == champion,
                "val_roc_auc": m.val_roc_auc,
                **evaluate.probability_metrics(y, p, m.threshold),
            }
        )
        curve_parts.append(
            evaluate.curves(y, p, True).assign(model_id=m.model_id, feature_set=fs, model_kind=kind)
        )
    for name, (col, sign) in PEERS.items():
        if col not in test.columns or test[col].isna().all():
            continue
        s = sign * pd.to_numeric(test[col], errors="coerce").fillna(test[col].median() if sign > 0 else 0)
        s = s.to_numpy(dtype="float64")
        peer_id = f"peer_{name}"
        scores[peer_id] = s
        metric_rows.append(
            {
                "model_id": peer_id,
                "feature_set": "peer",
                "model_kind": name,
                "model_params": f"{'-' if sign < 0 else ''}{col}",
                "n_features": 1.0,
                "is_selected": False,
                "is_champion": False,
                "val_roc_auc": np.nan,
                **evaluate.ranking_metrics(y, s),
            }
        )
        curve_parts.append(
            evaluate.curves(y, s, False).assign(model_id=peer_id, feature_set="peer", model_kind=name)
        )
    metrics = pd.DataFrame(metric_rows)
    # Every model and peer on the same bootstrap resamples of the test rows: differences to the validated
    # baseline and to the best peer get paired CIs, and each ROC-AUC its own CI.
    reps = evaluate.bootstrap_auc_replicates(
        y, scores, settings.n_boot, settings.seed, settings.max_boot_rows
    )
    base_id = run_models[("baseline", selected["baseline"])].model_id
    diffs = [
        evaluate.auc_diff_summary(y, scores[base_id], scores[mid], reps[base_id], reps[mid])
        for mid in metrics["model_id"]
    ]
    metrics = pd.concat([metrics, pd.DataFrame(diffs)], axis=1)
    metrics["reference_model_id"] = base_id
    metrics["roc_auc_ci_low"] = [float(np.quantile(reps[mid], 0.025)) for mid in metrics["model_id"]]
    metrics["roc_auc_ci_high"] = [float(np.quantile(reps[mid], 0.975)) for mid in metrics["model_id"]]
    metrics = pd.concat([metrics, vs_best_peer(metrics, y, scores, reps)], axis=1)
    metrics = pd.concat(
        [metrics, active_rows(test, y, scores, metrics["model_id"], base_id, settings)], axis=1
    )
    curves = pd.concat(curve_parts, ignore_index=True)
    return metrics, curves


def vs_best_peer(
    metrics: pd.DataFrame, y: np.ndarray, scores: dict[str, np.ndarray], reps: dict[str, np.ndarray]
) -> pd.DataFrame:
    """Each model's ROC-AUC minus the best peer's (by test ROC-AUC), with the paired 95% CI: a model beats the
    peer only when the whole CI is above 0 (otherwise it is a tie or worse)."""
    cols = [
        "best_peer_model_id",
        "auc_diff_vs_best_peer",
        "auc_diff_vs_best_peer_ci_low",
        "auc_diff_vs_best_peer_ci_high",
    ]
    peers = metrics[metrics["feature_set"] == "peer"]
    if peers.empty:
        return pd.DataFrame(np.nan, index=metrics.index, columns=cols).assign(best_peer_model_id=None)
    best = peers.sort_values(["roc_auc", "model_id"], ascending=[False, True])["model_id"].iloc[0]
    rows = []
    for mid in metrics["model_id"]:
        d = evaluate.auc_diff_summary(y, scores[best], scores[mid], reps[best], reps[mid])
        rows.append([best, d["auc_diff"], d["auc_diff_ci_low"], d["auc_diff_ci_high"]])
    return pd.DataFrame(rows, columns=cols, index=metrics.index)
