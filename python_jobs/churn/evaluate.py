"""Out-of-time evaluation: metrics, chart curves and a paired bootstrap CI for an AUC difference.

Ranking metrics (ROC-AUC, PR-AUC, top-decile lift and capture) apply to any score, so peers (recency alone,
RFM score) are scored on exactly the same test rows. Probability metrics (Brier, log loss) and threshold
metrics apply only to calibrated probabilities and are null for peers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

EPS = 1e-12


def choose_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The probability cut maximising F1 on validation predictions (never the test rows)."""
    precision, recall, thresholds = precision_recall_curve(y, p)
    f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], EPS)
    return float(thresholds[int(np.argmax(f1))]) if len(thresholds) else 0.5


def _top_decile_order(score: np.ndarray) -> np.ndarray:
    # Stable, deterministic order: highest score first, ties by position.
    return np.argsort(-score, kind="stable")


def lift_at(y: np.ndarray, score: np.ndarray, share: float) -> tuple[float, float]:
    """(lift, capture) when targeting the top `share` of rows by score."""
    n = len(y)
    k = max(1, int(np.ceil(share * n)))
    top = y[_top_decile_order(score)[:k]]
    base = y.mean()
    positives = y.sum()
    lift = float(top.mean() / base) if base > 0 else float("nan")
    capture = float(top.sum() / positives) if positives > 0 else float("nan")
    return lift, capture


def ranking_metrics(y: np.ndarray, score: np.ndarray) -> dict[str, float]:
    y = np.asarray(y, dtype=int)
    lift, capture = lift_at(y, score, 0.10)
    return {
        "n_rows": float(len(y)),
        "n_positive": float(y.sum()),
        "base_rate": float(y.mean()),
        "roc_auc": float(roc_auc_score(y, score)),
        "pr_auc": float(average_precision_score(y, score)),
        "top_decile_lift": lift,
        "top_decile_capture": capture,
    }


def probability_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    y = np.asarray(y, dtype=int)
    p = np.clip(np.asarray(p, dtype="float64"), EPS, 1 - EPS)
    pred = p >= threshold
    tp = int(np.sum(pred & (y == 1)))
    fp = int(np.sum(pred & (y == 0)))
    fn = int(np.sum(~pred & (y == 1)))
    tn = int(np.sum(~pred & (y == 0)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        **ranking_metrics(y, p),
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "threshold": float(threshold),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "tp": float(tp),
        "fp": float(fp),
        "tn": float(tn),
        "fn": float(fn),
    }


def _thin(frame: pd.DataFrame, max_points: int) -> pd.DataFrame:
    if len(frame) <= max_points:
        return frame
    keep = np.unique(np.linspace(0, len(frame) - 1, max_points).round().astype(int))
    return frame.iloc[keep]


def curves(y: np.ndarray, score: np.ndarray, is_probability: bool, max_points: int = 200) -> pd.DataFrame:
    """Long table (curve, point, x, y, threshold, n) for roc, pr, lift and (probabilities only) calibration."""
    y = np.asarray(y, dtype=int)
    parts = []
    fpr, tpr, thr = roc_curve(y, score)
    parts.append(_thin(pd.DataFrame({"curve": "roc", "x": fpr, "y": tpr, "threshold": thr}), max_points))
    precision, recall, thr = precision_recall_curve(y, score)
    pr = pd.DataFrame({"curve": "pr", "x": recall[:-1], "y": precision[:-1], "threshold": thr})
    parts.append(_thin(pr.iloc[::-1], max_points))
    order = _top_decile_order(score)
    hits = np.cumsum(y[order])
    shares = np.arange(1, 101) / 100
    k = np.maximum(1, np.ceil(shares * len(y)).astype(int))
    lift = (hits[k - 1] / k) / max(y.mean(), EPS)
    parts.append(
        pd.DataFrame({"curve": "lift", "x": shares, "y": lift, "threshold": np.asarray(score)[order][k - 1]})
    )
    if is_probability:
        edges = np.linspace(0, 1, 11)
        bins = np.clip(np.digitize(score, edges[1:-1]), 0, 9)
        cal = (
            pd.DataFrame({"bin": bins, "p": score, "y": y})
            .groupby("bin")
            .agg(x=("p", "mean"), y=("y", "mean"), n=("y", "size"))
            .reset_index()
        )
        cal["threshold"] = edges[cal["bin"].to_numpy() + 1]
        parts.append(cal.assign(curve="calibration")[["curve", "x", "y", "threshold", "n"]])
    out = pd.concat(parts, ignore_index=True)
    out["point"] = out.groupby("curve").cumcount()
    out["threshold"] = out["threshold"].astype("float64").clip(-1e12, 1e12)
    out["n"] = out["n"].astype("float64") if "n" in out else np.nan
    return out[["curve", "point", "x", "y", "threshold", "n"]]


def _weighted_auc(y_sorted: np.ndarray, group_id: np.ndarray, n_groups: int, w: np.ndarray) -> np.ndarray:
    """AUC per bootstrap weight row in O(n): scores pre-sorted ascending, ties share `group_id`.

    w has shape (B, n). AUC = sum_pos w_i * (W_neg below score_i + 0.5 W_neg tied) / (W_pos W_neg).
    """
    pos, neg = y_sorted == 1, y_sorted == 0
    b = w.shape[0]
    neg_w = np.zeros((b, n_groups))
    pos_w = np.zeros((b, n_groups))
    for arr, mask in ((neg_w, neg), (pos_w, pos)):
        idx = group_id[mask]
        for r in range(b):  # B rows, each vectorised over n
            arr[r] = np.bincount(idx, weights=w[r, mask], minlength=n_groups)
    neg_below = np.cumsum(neg_w, axis=1) - neg_w
    num = (pos_w * (neg_below + 0.5 * neg_w)).sum(axis=1)
    return num / np.maximum(pos_w.sum(axis=1) * neg_w.sum(axis=1), EPS)


def _auc_replicates(y: np.ndarray, score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    order = np.argsort(score, kind="stable")
    s = np.asarray(score)[order]
    group_id = np.concatenate([[0], np.cumsum(s[1:] != s[:-1])])
    return _weighted_auc(y[order], group_id, int(group_id[-1]) + 1, weights[:, order])


def bootstrap_auc_replicates(
    y: np.ndarray,
    scores: dict[str, np.ndarray],
    n_boot: int = 500,
    seed: int = 42,
    max_rows: int | None = None,
) -> dict[str, np.ndarray]:
    """Paired bootstrap: every score's ROC-AUC on the same n_boot resamples of the rows, so any two can be
    compared replicate by replicate (and each gets its own CI) from one pass.

    Cost is n_boot x rows x scores. With more than max_rows rows, the resamples are drawn from a fixed random
    sample of m = max_rows rows instead, and each replicate is rescaled to the full set of n rows:
    AUC_n + sqrt(m / n) * (AUC*_m - AUC_m). An AUC (a two-sample U-statistic) has sampling error of order
    1/sqrt(n), so the rescaled replicates estimate the same thing as a bootstrap of all n rows: the sampling
    distribution of the full-set AUC (and, paired, of any AUC difference), at a cost bounded by max_rows.
    """
    y = np.asarray(y, dtype=int)
    n = len(y)
    if max_rows is None or n <= max_rows or len(np.unique(y)) < 2:
        return _replicates(y, scores, n_boot, seed)
    pick = np.sort(np.random.default_rng([seed, n]).choice(n, size=max_rows, replace=False))
    if len(np.unique(y[pick])) < 2:  # a sample without one class cannot rank: use every row
        return _replicates(y, scores, n_boot, seed)
    sample = {k: np.asarray(s)[pick] for k, s in scores.items()}
    reps = _replicates(y[pick], sample, n_boot, seed)
    shrink = np.sqrt(max_rows / n)
    return {
        k: roc_auc_score(y, scores[k]) + shrink * (r - roc_auc_score(y[pick], sample[k]))
        for k, r in reps.items()
    }


def _replicates(
    y: np.ndarray, scores: dict[str, np.ndarray], n_boot: int, seed: int
) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    reps: dict[str, list[np.ndarray]] = {k: [] for k in scores}
    for start in range(0, n_boot, 20):  # chunks bound memory at 20 x n weights
        b = min(20, n_boot - start)
        w = rng.multinomial(len(y), np.full(len(y), 1 / len(y)), size=b).astype("float64")
        for k, score in scores.items():
            reps[k].append(_auc_replicates(y, score, w))
    return {k: np.concatenate(v) for k, v in reps.items()}


def auc_diff_summary(
    y: np.ndarray, score_a: np.ndarray, score_b: np.ndarray, reps_a: np.ndarray, reps_b: np.ndarray
) -> dict[str, float]:
    """AUC(b) - AUC(a): estimate, 95% CI and P(diff <= 0) from paired replicates."""
    d = reps_b - reps_a
    return {
        "auc_diff": float(roc_auc_score(y, score_b) - roc_auc_score(y, score_a)),
        "auc_diff_ci_low": float(np.quantile(d, 0.025)),
        "auc_diff_ci_high": float(np.quantile(d, 0.975)),
        "auc_diff_p_le_0": float(np.mean(d <= 0)),
        "n_boot": float(len(d)),
    }


def bootstrap_auc_diff(
    y: np.ndarray, score_a: np.ndarray, score_b: np.ndarray, n_boot: int = 500, seed: int = 42
) -> dict[str, float]:
    """Paired bootstrap (same resampled rows for both scores) of AUC(b) - AUC(a): estimate, 95% CI, p."""
    reps = bootstrap_auc_replicates(y, {"a": score_a, "b": score_b}, n_boot, seed)
    return auc_diff_summary(y, score_a, score_b, reps["a"], reps["b"])
