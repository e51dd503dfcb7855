"""Reason codes: the top drivers of each customer's score, computed from the model that produced it.

- logreg: the logit is intercept + sum_j coef_j * z_j, with z_j the customer's imputed, log-transformed and
  standardised value. contribution_j = coef_j * z_j (log-odds relative to the average training customer);
  contributions + intercept reproduce the logit exactly.
- hgb: occlusion against the same model: contribution_j = logit(x) - logit(x with feature j set to its training
  median). It evaluates the tree model itself (no surrogate), so a driver is only reported if changing that value
  really moves this customer's score. Not additive, by nature of trees. To keep scoring linear in customers x a
  few passes, occlusion runs for the 12 features that can be reasons (reason_if not 'never') with the largest mean
  effect on a sample of the at-risk training rows, chosen at fit time (candidate_features); the others are never
  reported. Each feature re-evaluates only the trees that split on it (BoostedTrees), on a thread pool: for 435k
  at-risk rows, 86 s with 13 full predictions -> 32 s on one worker, 21.5 s on two (2-core machine), same numbers;
  the trees then walk binned values (BoostedTrees.occlusion), 1M bench scoring 30.7 -> 22.6 s. Scoring walks every
  tree once for both the probabilities and occlusion's starting sums (TreeWalk): scores_table on the 1M score rows
  (625k), three runs each side by side, median 15.6 -> 14.2 s wall, 29.5 -> 26.9 s CPU, identical output.

Only risk-increasing contributions (> 0) become reasons, only for customers outside the low tier (run.score),
and only where the registry says the value is a driver worth saying (reason_if); text comes from the feature
registry's templates, phrased against the customer's own baseline (usual order gap, the prior period).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline

from python_jobs.churn.features import FeatureSpec
from python_jobs.churn.pipelines import raw_logit

N_REASONS = 3
REASON_COLUMNS = [f"reason_{i}{suffix}" for i in range(1, N_REASONS + 1) for suffix in ("", "_feature")]


def linear_contributions(pipeline: Pipeline, X: np.ndarray) -> tuple[np.ndarray, float]:
    """(n, k) log-odds contributions and the intercept of a logreg pipeline."""
    z = pipeline[:-1].transform(X)
    model = pipeline[-1]
    return z * model.coef_[0], float(model.intercept_[0])


def occlusion_contributions(
    pipeline: Pipeline,
    X: np.ndarray,
    reference: np.ndarray,
    batch_rows: int = 100_000,
    columns: np.ndarray | None = None,
) -> np.ndarray:
    """(n, len(columns)) change in the model's log-odds when each feature (default: all) is replaced by its
    reference value."""
    cols = np.arange(X.shape[1]) if columns is None else np.asarray(columns)
    trees = BoostedTrees.of(pipeline)
    out = np.empty((len(X), len(cols)), dtype="float64")
    for start in range(0, len(X), batch_rows):
        block = X[start : start + batch_rows]
        part = out[start : start + batch_rows]
        if trees is not None:
            trees.occlusion(block, reference, cols, part)
            continue
        base = raw_logit(pipeline, block)
        occluded = block.copy()
        for i, j in enumerate(cols):  # one vectorised prediction per feature, not per customer
            occluded[:, j] = reference[j]
            part[:, i] = base - raw_logit(pipeline, occluded)
            occluded[:, j] = block[:, j]
    return out


class BoostedTrees:
    """Occlusion on a fitted binary HistGradientBoostingClassifier, tree by tree. Setting feature j to its
    reference changes only the trees that split on j (a third to two thirds of them), so each tree's output is
    computed once and only those trees again: the same log-odds differences as two full predictions, at about
    half the cost. Trees and features are spread over a thread pool: each prediction is single-threaded and
    releases the GIL, so a busy core slows one worker instead of stalling an OpenMP barrier. Reads the fitted
    trees and bins (sklearn's `_predictors`, `_bin_mapper`, pinned version); any other model falls back to full
    predictions."""

    def __init__(self, model: HistGradientBoostingClassifier, workers: int) -> None:
        self.trees = [of_iteration[0] for of_iteration in model._predictors]
        self.split_features = [set(_split_features(tree)) for tree in self.trees]
        self.bin_mapper = model._bin_mapper
        self.baseline = float(model._baseline_prediction.ravel()[0])
        self.workers = workers

    @classmethod
    def of(cls, pipeline: Pipeline, workers: int | None = None) -> BoostedTrees | None:
        model = pipeline[-1]
        simple = len(pipeline) == 1 and isinstance(model, HistGradientBoostingClassifier)
        if not simple or any(len(of_iteration) != 1 for of_iteration in getattr(model, "_predictors", [[]])):
            return None
        if model.is_categorical_ is not None and model.is_categorical_.any():
            return None  # binned categories need the raw bitsets: full predictions instead
        return cls(model, workers or os.cpu_count() or 1)

    def _predict(self, tree: object, X: np.ndarray) -> np.ndarray:
        return tree.predict_binned(X, self.bin_mapper.missing_values_bin_idx_, 1)

    def binned(self, X: np.ndarray) -> np.ndarray:
        # Trees walk the binned values (uint8, row-major: 8x less memory per row than float64), as the model's
        # own fit does. The same leaves: a value lands in bin b iff threshold[b-1] < x <= threshold[b], and a
        # split at bin b sends x left iff x <= threshold[b], the split's raw threshold.
        return np.ascontiguousarray(self.bin_mapper.transform(np.asarray(X, dtype="float64")))

    def logits(self, binned: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One walk of every tree over the binned rows: each row's log-odds, the model's decision_function bit
        for bit (its baseline, then each tree's output added in the model's order, as sklearn adds them), and
        per feature of `cols` the summed output of the trees that split on it, which occlusion recomputes. The
        sums are added tree by tree as each prediction arrives (not a rows x trees matrix: 120 MB per 100k rows
        at 150 trees, stacked on one thread), into one contiguous row per feature (a column of a rows x features
        array made each add stride through memory: 2.6 s of the walk's 3.8 s on 625k score rows). Returned as a
        rows x features view."""
        logit = np.zeros(len(binned))
        logit += self.baseline
        before = np.zeros((len(cols), len(binned)))
        with ThreadPoolExecutor(self.workers) as pool:
            for t, prediction in enumerate(pool.map(lambda tree: self._predict(tree, binned), self.trees)):
                logit += prediction
                for i, j in enumerate(cols):
                    if j in self.split_features[t]:
                        before[i] += prediction
        return logit, before.T

    def occlude(
        self, binned: np.ndarray, before: np.ndarray, reference: np.ndarray, cols: np.ndarray, out: np.ndarray
    ) -> None:
        """out[:, i]: the change in log-odds when feature cols[i] is set to its reference value, from `before`
        (logits' sums) and a new walk of only the trees that split on that feature."""
        reference = self.binned(reference[None, :])[0]
        using = [[t for t, features in enumerate(self.split_features) if j in features] for j in cols]

        def occlude(i: int, j: int) -> None:
            # a row whose value is in the reference's bin already takes the same path through every tree: 0
            moved = np.flatnonzero(binned[:, j] != reference[j])
            occluded = binned[moved]
            occluded[:, j] = reference[j]
            after = sum((self._predict(self.trees[t], occluded) for t in using[i]), np.zeros(len(moved)))
            out[:, i] = 0.0
            out[moved, i] = before[moved, i] - after

        with ThreadPoolExecutor(self.workers) as pool:
            list(pool.map(occlude, range(len(cols)), cols))

    def occlusion(self, X: np.ndarray, reference: np.ndarray, cols: np.ndarray, out: np.ndarray) -> None:
        binned = self.binned(X)
        self.occlude(binned, self.logits(binned, cols)[1], reference, cols, out)


@dataclass
class TreeWalk:
    """One walk of a champion tree model over the scored rows, shared by their probabilities and their reasons:
    the log-odds come from the same tree outputs as occlusion's starting sums, so scoring walks every tree once
    (not once for the probabilities and again for the reasons)."""

    trees: BoostedTrees
    cols: np.ndarray
    binned: np.ndarray
    logit: np.ndarray
    before: np.ndarray

    @classmethod
    def start(cls, pipeline: Pipeline, X: np.ndarray, cols: np.ndarray | None) -> TreeWalk | None:
        """The walk for the reason features `cols`, or None when the model has no BoostedTrees form (logreg,
        categorical splits) or no fixed reason features (a run pickled before they existed)."""
        trees = BoostedTrees.of(pipeline)
        if trees is None or cols is None:
            return None
        cols = np.asarray(cols)
        binned = trees.binned(X)
        return cls(trees, cols, binned, *trees.logits(binned, cols))

    def contributions(self, rows: np.ndarray, reference: np.ndarray) -> np.ndarray:
        """(len(rows), n_features) contributions of those rows (as `contributions`: occlusion of the reason
        features, 0 elsewhere)."""
        part = np.empty((len(rows), len(self.cols)))
        self.trees.occlude(self.binned[rows], self.before[rows], reference, self.cols, part)
        out = np.zeros((len(rows), self.binned.shape[1]))
        out[:, self.cols] = part
        return out


def _split_features(tree: object) -> list[int]:
    """The features a fitted tree splits on (its inner nodes' feature_idx)."""
    nodes = tree.nodes
    return nodes["feature_idx"][nodes["is_leaf"] == 0].tolist()


MAX_REASON_CANDIDATES = 12  # occlusion passes per scored tree row


def candidate_features(
    pipeline: Pipeline,
    X: np.ndarray,
    reference: np.ndarray,
    k: int,
    sample_rows: int = 2_000,
    allowed: np.ndarray | None = None,
) -> np.ndarray:
    """Indices of the k features with the largest mean |occlusion effect| on an evenly spaced row sample, among
    the `allowed` ones (a boolean mask; default all): a feature that is never a reason (reason_if 'never')
    would take an occlusion pass per scored row and give nothing to say."""
    pool = np.arange(X.shape[1]) if allowed is None else np.flatnonzero(allowed)
    if len(pool) <= k:
        return pool
    rows = np.unique(np.linspace(0, len(X) - 1, min(sample_rows, len(X))).astype(int))
    strength = np.abs(occlusion_contributions(pipeline, X[rows], reference, columns=pool)).mean(axis=0)
    return np.sort(pool[np.argsort(-strength, kind="stable")[:k]])


def contributions(
    pipeline: Pipeline,
    kind: str,
    X: np.ndarray,
    reference: np.ndarray,
    max_candidates: int = MAX_REASON_CANDIDATES,
    candidates: np.ndarray | None = None,
) -> np.ndarray:
    """(n, k) per-customer contributions in log-odds. For trees, occlusion is evaluated for the
    `max_candidates` features that move this model's scores most (others get 0): one prediction pass per
    candidate keeps scoring 1M customers tractable while every reported effect is the model's own.
    `candidates` fixes that set (a fitted model's reason_features, chosen once at fit time)."""
    if kind == "logreg":
        return linear_contributions(pipeline, X)[0]
    cols = candidate_features(pipeline, X, reference, max_candidates) if candidates is None else candidates
    out = np.zeros_like(X, dtype="float64")
    out[:, cols] = occlusion_contributions(pipeline, X, reference, columns=cols)
    return out


def top_reasons(
    contrib: np.ndarray,
    X: np.ndarray,
    columns: list[str],
    specs: dict[str, FeatureSpec],
    k: int = N_REASONS,
    context: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """reason_1..k (text) and reason_1_feature..k_feature (registry key) from positive contributions.

    Drivers are ranked by contribution. A driver is skipped when its feature is never a reason (reason_if
    'never', e.g. past retention actions), when its value is not on the risky side (reason_if, e.g. a trend
    that did not fall), or when its text repeats a stronger one; so the k reasons say k different, true
    things. `context` (one row per row of X) holds other features the templates phrase a value against.
    """
    n = contrib.shape[0]
    allowed = np.array([specs[c].can_be_reason for c in columns], dtype=bool)
    # Ranked among the columns that are a driver for some row (for trees: the occluded candidates): any other
    # ranks after every positive contribution of every row, so leaving it out changes no row's reasons.
    live = np.flatnonzero(allowed & (contrib > 1e-9).any(axis=0))
    depth = min(len(live), k + 6)
    order = live[np.argsort(-contrib[:, live], axis=1, kind="stable")[:, :depth]]
    rows = np.repeat(np.arange(n), depth)
    cols = order.ravel()
    value = contrib[rows, cols]
    keep = value > 1e-9
    rows, cols = rows[keep], cols[keep]
    text = np.empty(len(rows), dtype=object)

    @cache  # once per context column, however many features cite it
    def sayable(c: str) -> np.ndarray:  # a context value is cited only where it could be said itself
        values = pd.to_numeric(context[c], errors="coerce").to_numpy("float64", na_value=np.nan)
        return specs[c].sayable_values(values) if c in specs else values

    for col in np.unique(cols):  # format per feature, over that feature's rows at once
        at = np.flatnonzero(cols == col)
        spec = specs[columns[col]]
        needed = [c for c in spec.context_fields() if context is not None and c in context]
        text[at] = spec.reasons(X[rows[at], col], {c: sayable(c)[rows[at]] for c in needed})
    said = np.array([t is not None for t in text], dtype=bool)
    rows, cols, text = rows[said], cols[said], text[said]
    long = pd.DataFrame({"row": rows, "text": text, "feature": np.asarray(columns, dtype=object)[cols]})
    long = long.drop_duplicates(["row", "text"])  # rows stay in rank order within each customer
    long["rank"] = long.groupby("row").cumcount()
    long = long[long["rank"] < k]
    out: dict[str, np.ndarray] = {}
    for r in range(k):
        part = long[long["rank"] == r]
        text_r = np.full(n, None, dtype=object)
        feat_r = np.full(n, None, dtype=object)
        text_r[part["row"].to_numpy()] = part["text"].to_numpy()
        feat_r[part["row"].to_numpy()] = part["feature"].to_numpy()
        out[f"reason_{r + 1}"] = text_r
        out[f"reason_{r + 1}_feature"] = feat_r
    return pd.DataFrame(out)
