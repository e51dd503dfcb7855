"""The active-customer re-evaluation: the model comparison on customers who still order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from python_jobs.churn import evaluate
from python_jobs.churn.settings import ACTIVE_DAYS, PEERS, Settings


def active_rows(
    test: pd.DataFrame,
    y: np.ndarray,
    scores: dict[str, np.ndarray],
    model_ids: pd.Series,
    base_id: str,
    settings: Settings,
) -> pd.DataFrame:
    """The same comparison restricted to customers who ordered in the last ACTIVE_DAYS: the ones a retention
    team can still save, where behaviour has not yet given the answer away."""
    mask = (pd.to_numeric(test[PEERS["recency"][0]], errors="coerce") <= ACTIVE_DAYS).to_numpy()
    cols = [
        "active_n_rows",
        "active_base_rate",
        "active_roc_auc",
        "active_auc_diff_vs_baseline",
        "active_auc_diff_ci_low",
        "active_auc_diff_ci_high",
    ]
    if mask.sum() < 20 or len(np.unique(y[mask])) < 2:
        return pd.DataFrame(np.nan, index=range(len(model_ids)), columns=cols)
    ya = y[mask]
    active = {mid: scores[mid][mask] for mid in model_ids}
    # One paired bootstrap pass for every model (the same resamples as one pair at a time would draw).
    reps = evaluate.bootstrap_auc_replicates(
        ya, active, settings.n_boot, settings.seed, settings.max_boot_rows
    )
    rows = []
    for mid in model_ids:
        d = evaluate.auc_diff_summary(ya, active[base_id], active[mid], reps[base_id], reps[mid])
        rows.append(
            [
                float(mask.sum()),
                float(ya.mean()),
                evaluate.ranking_metrics(ya, active[mid])["roc_auc"],
                d["auc_diff"],
                d["auc_diff_ci_low"],
                d["auc_diff_ci_high"],
            ]
        )
    return pd.DataFrame(rows, columns=cols)
