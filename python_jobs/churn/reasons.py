"""Reason codes: the top drivers of each customer's score, computed from the model that produced it.

- logreg: the logit is intercept + sum_j coef_j * z_j, with z_j the customer's imputed, log-transformed and
  standardised value. contribution_j = coef_j * z_j (log-odds relative to the average training customer);
  contributions + intercept reproduce the logit exactly.
- hgb: occlusion against the same model: contribution_j = logit(x) - logit(x with feature j set to its
  training median). It evaluates the tree model itself (no surrogate), so a driver is only reported if
  changing that value really moves this customer's score. Not additive, by nature of trees.

Only risk-increasing contributions (> 0) become reasons; text comes from the feature registry's templates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from python_jobs.churn.features import FeatureSpec
from python_jobs.churn.pipelines import raw_logit

N_REASONS = 3


def linear_contributions(pipeline: Pipeline, X: np.ndarray) -> tuple[np.ndarray, float]:
    """(n, k) log-odds contributions and the intercept of a logreg pipeline."""
    z = pipeline[:-1].transform(X)
    model = pipeline[-1]
    return z * model.coef_[0], float(model.intercept_[0])


def occlusion_contributions(
    pipeline: Pipeline, X: np.ndarray, reference: np.ndarray, batch_rows: int = 200_000
) -> np.ndarray:
    """(n, k) change in the model's log-odds when each feature is replaced by its reference value."""
    out = np.empty_like(X, dtype="float64")
    for start in range(0, len(X), batch_rows):
        block = X[start : start + batch_rows]
        base = raw_logit(pipeline, block)
        for j in range(X.shape[1]):  # one vectorised prediction per feature, not per customer
            occluded = block.copy()
            occluded[:, j] = reference[j]
            out[start : start + batch_rows, j] = base - raw_logit(pipeline, occluded)
    return out


def contributions(pipeline: Pipeline, kind: str, X: np.ndarray, reference: np.ndarray) -> np.ndarray:
    if kind == "logreg":
        return linear_contributions(pipeline, X)[0]
    return occlusion_contributions(pipeline, X, reference)


def top_reasons(
    contrib: np.ndarray, X: np.ndarray, columns: list[str], specs: dict[str, FeatureSpec], k: int = N_REASONS
) -> pd.DataFrame:
    """reason_1..k (text) and reason_1_feature..k_feature (registry key) from positive contributions."""
    n = len(contrib)
    order = np.argsort(-contrib, axis=1, kind="stable")[:, :k]
    out: dict[str, np.ndarray] = {}
    for r in range(k):
        j = order[:, r] if contrib.shape[1] > r else np.zeros(n, dtype=int)
        positive = contrib[np.arange(n), j] > 1e-9 if contrib.shape[1] > r else np.zeros(n, dtype=bool)
        text = np.full(n, None, dtype=object)
        feat = np.full(n, None, dtype=object)
        for col in np.unique(j[positive]):  # format per feature, over that feature's rows at once
            rows = np.flatnonzero(positive & (j == col))
            spec = specs[columns[col]]
            values = X[rows, col]
            text[rows] = [spec.reason(v) for v in values.tolist()]
            feat[rows] = spec.name
        out[f"reason_{r + 1}"] = text
        out[f"reason_{r + 1}_feature"] = feat
    return pd.DataFrame(out)
