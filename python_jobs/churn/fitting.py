"""Fit a run: per feature set, choose a candidate on time folds, fit it, calibrate it out-of-time, evaluate."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from python_jobs.churn import evaluate, guards, registry, selection
from python_jobs.churn.features import FEATURE_SETS, FeatureSelection, FeatureSpec, select_features, to_matrix
from python_jobs.churn.fitted import ChurnRun, FittedModel
from python_jobs.churn.pipelines import Candidate, churn_probability, make_pipeline
from python_jobs.churn.reasons import MAX_REASON_CANDIDATES, candidate_features
from python_jobs.churn.settings import KEYS, LABEL, Settings
from python_jobs.churn.splits import cap_rows, run_id_for, split_rows, training_window
from python_jobs.churn.tables import model_rows

log = logging.getLogger(__name__)
T = TypeVar("T")
# Threads that run the fit's tasks (one per core, at most two: each task holds its own copies of X's rows).
FIT_THREADS = min(2, os.cpu_count() or 1)


class Clock:
    """Wall and CPU seconds per named step: user+sys of this process, or of the calling thread alone when
    `cpu` is time.thread_time (a step that runs beside others in threads)."""

    def __init__(self, cpu: Callable[[], float] = time.process_time) -> None:
        self.timings: dict[str, float] = {}
        self._cpu_now = cpu
        self._wall, self._cpu = time.perf_counter(), cpu()
        self._start = (self._wall, self._cpu)

    def lap(self, step: str, cpu_s: float | None = None) -> None:
        """Close a step; `cpu_s` when the step's CPU was spent elsewhere (the tasks it ran on a pool)."""
        wall, cpu = time.perf_counter(), self._cpu_now()
        self.timings[f"{step}_wall_s"] = round(wall - self._wall, 3)
        self.timings[f"{step}_cpu_s"] = round(cpu - self._cpu if cpu_s is None else cpu_s, 3)
        self._wall, self._cpu = wall, cpu

    def total(self) -> dict[str, float]:
        wall, cpu = time.perf_counter(), self._cpu_now()
        return {
            **self.timings,
            "total_wall_s": round(wall - self._start[0], 3),
            "total_cpu_s": round(cpu - self._start[1], 3),
        }


class Tasks:
    """Runs a step's independent tasks (a candidate on a fold, a final fit) on a shared thread pool and returns
    their results in order, adding up the tasks' own CPU. Each task limits its OpenMP threads to n_threads: a new
    thread starts from the library's default (every core), and sklearn's fits and predictions release the GIL."""

    def __init__(self, pool: ThreadPoolExecutor, n_threads: int) -> None:
        self.pool, self.n_threads, self.cpu_s = pool, n_threads, 0.0

    def _one(self, task: Callable[[], T]) -> tuple[T, float]:
        start = time.thread_time()
        with threadpool_limits(limits=self.n_threads, user_api="openmp"):
            return task(), time.thread_time() - start

    def __call__(self, tasks: list[Callable[[], T]]) -> list[T]:
        done = [future.result() for future in [self.pool.submit(self._one, task) for task in tasks]]
        self.cpu_s += sum(cpu for _, cpu in done)
        return [result for result, _ in done]

    def take_cpu_s(self) -> float:
        """CPU seconds of the tasks run since the last call."""
        cpu_s, self.cpu_s = self.cpu_s, 0.0
        return cpu_s


def fit_feature_set(
    train: pd.DataFrame,
    feature_sel: FeatureSelection,
    specs: dict[str, FeatureSpec],
    folds: list[selection.Fold],
    settings: Settings,
    fingerprint: str,
    window: dict[str, str],
    run: Tasks,
    clock: Clock,
) -> tuple[dict[str, FittedModel], pd.DataFrame, str]:
    X = to_matrix(train, feature_sel.columns)
    y = train[LABEL].astype(int).to_numpy()
    sel = selection.select(X, y, folds, settings.candidates, settings.seed, settings.max_fold_rows, run)
    clock.lap(f"selection_{feature_sel.feature_set}", run.take_cpu_s())
    reference = np.nan_to_num(np.nanmedian(X, axis=0), nan=0.0)
    sayable = np.array([specs[c].can_be_reason for c in feature_sel.columns], dtype=bool)
    # The model that scores is the one that is calibrated: fitted on every training snapshot but the latest,
    # then frozen, sigmoid-calibrated and its threshold chosen on the latest, which it never saw (out-of-time).
    fit_idx, cal_idx = selection.calibration_split(train["snapshot_date"], y, folds)

    def final_fit(kind: str, cand: Candidate) -> FittedModel:
        pipeline = make_pipeline(cand, settings.seed).fit(X[fit_idx], y[fit_idx])
        calibrated = CalibratedClassifierCV(FrozenEstimator(pipeline), method="sigmoid")
        calibrated.fit(X[cal_idx], y[cal_idx])
        threshold = evaluate.choose_threshold(
            y[cal_idx], churn_probability(calibrated, X[cal_idx], workers=1)
        )
        model_id = registry.stable_hash(
            {
                "fingerprint": fingerprint,
                "window": window,
                "feature_set": feature_sel.feature_set,
                "features": feature_sel.columns,
                "params": cand.as_dict(),
                "seed": settings.seed,
                "code": registry.code_version(),
            }
        )
        return FittedModel(
            model_id=model_id,
            feature_set=feature_sel.feature_set,
            candidate=cand,
            columns=feature_sel.columns,
            pipeline=pipeline,
            calibrated=calibrated,
            threshold=threshold,
            reference=reference,
            val_roc_auc=sel.val_auc(kind),
            reason_features=reason_features(cand.kind, pipeline, calibrated, X, reference, settings, sayable),
        )

    kinds = list(sel.best)
    fitted = dict(zip(kinds, run([partial(final_fit, k, sel.best[k]) for k in kinds]), strict=True))
    clock.lap(f"final_fits_{feature_sel.feature_set}", run.take_cpu_s())
    scores = sel.scores.assign(feature_set=feature_sel.feature_set)
    return fitted, scores, sel.best_kind


def reason_features(
    kind: str,
    pipeline: Pipeline,
    calibrated: CalibratedClassifierCV,
    X: np.ndarray,
    reference: np.ndarray,
    settings: Settings,
    sayable: np.ndarray,
) -> np.ndarray | None:
    """A tree model's reason features: the MAX_REASON_CANDIDATES of the `sayable` ones (FeatureSpec.can_be_reason)
    with the largest mean occlusion effect on the training rows it calls medium or high risk, within an evenly
    spaced sample of 50,000 (all of the sample when none are at risk)."""
    if kind == "logreg":
        return None
    sample = X[np.unique(np.linspace(0, len(X) - 1, min(50_000, len(X))).astype(int))]
    at_risk = np.flatnonzero(churn_probability(calibrated, sample, workers=1) >= settings.risk_medium_cut)
    rows = sample[at_risk] if len(at_risk) else sample
    return candidate_features(pipeline, rows, reference, MAX_REASON_CANDIDATES, allowed=sayable)


def fit(frame: pd.DataFrame, specs: list[FeatureSpec], settings: Settings | None = None) -> ChurnRun:
    settings = settings or Settings()
    with threadpool_limits(limits=settings.n_threads):
        return _fit(frame, specs, settings)


def _fit(frame: pd.DataFrame, specs: list[FeatureSpec], settings: Settings) -> ChurnRun:
    clock = Clock()
    # A canonical row order: whatever order the warehouse returns rows in, the fit is the same.
    frame = frame.sort_values(KEYS, kind="stable").reset_index(drop=True)
    guards.check_point_in_time(frame)
    parts = split_rows(frame)
    guards.check_unlabelled(frame[frame["split"] == "score"])
    if parts["train"].empty or parts["test"].empty:
        raise ValueError(
            "need labelled train and test rows (check the snapshot spine and eval_snapshot_date)"
        )
    run_id, fingerprint = run_id_for(frame, specs, settings)
    window = training_window(parts)
    train = cap_rows(parts["train"], settings.max_train_rows, settings.seed)
    test = parts["test"]
    folds = selection.time_folds(
        train["snapshot_date"],
        train["horizon_end_date"],
        train[LABEL].astype(int).to_numpy(),
        train["customer_id"],
        settings.n_folds,
    )
    selections = {fs: select_features(train, specs, fs) for fs in FEATURE_SETS}
    by_name = {spec.name: spec for spec in specs}
    clock.lap("prepare")  # guards, fingerprint, folds, feature selection
    notes: dict[str, str] = {"validation_schemes": ",".join(sorted({f.scheme for f in folds}))}
    models: dict[tuple[str, str], FittedModel] = {}
    val_parts, selected = [], {}
    feature_sets = list(FEATURE_SETS)
    if selections["enhanced"].columns == selections["baseline"].columns:
        # No usable text features: an "enhanced" model would be the baseline model again. Publish the baseline
        # only and say why, rather than two identical rows and curves.
        feature_sets.remove("enhanced")
        notes["enhanced"] = (
            "no usable text features (no reviews or tickets, or none before the snapshots): enhanced would equal "
            "baseline, so only the baseline is fitted and published"
        )

    def fit_one(
        fs: str, pool: ThreadPoolExecutor
    ) -> tuple[tuple[dict[str, FittedModel], pd.DataFrame, str], dict]:
        own = Clock(cpu=time.thread_time)
        tasks = Tasks(pool, settings.n_threads)
        fitted = fit_feature_set(
            train, selections[fs], by_name, folds, settings, fingerprint, window, tasks, own
        )
        return fitted, own.timings

    # Every task of both feature sets (each candidate on each fold, each final fit; independent, fixed seeds) goes
    # to one pool with a thread per core, so both cores work until the last task; the models are those of one
    # task after the other. A thread per feature set only hands out its tasks and waits.
    with ThreadPoolExecutor(FIT_THREADS) as pool, ThreadPoolExecutor(len(feature_sets)) as sets:
        results = list(sets.map(partial(fit_one, pool=pool), feature_sets))
    for fs, ((fitted, val, best_kind), timings) in zip(feature_sets, results, strict=True):
        models.update({(fs, k): m for k, m in fitted.items()})
        val_parts.append(val)
        selected[fs] = best_kind
        clock.timings.update(timings)
    clock.lap("fits")
    champion = max(((fs, selected[fs]) for fs in feature_sets), key=lambda key: models[key].val_roc_auc)
    metrics, curves = model_rows(models, test, selected, champion, settings)
    clock.lap("evaluation")
    metrics.insert(0, "run_id", run_id)
    metrics["eval_snapshot_date"] = window["test_snapshot"]
    metrics["train_start_date"] = window["train_start"]
    metrics["train_end_date"] = window["train_end"]
    curves.insert(0, "run_id", run_id)
    log.info(
        "run %s champion %s; test metrics:\n%s",
        run_id,
        champion,
        metrics[["feature_set", "model_kind", "roc_auc", "pr_auc", "top_decile_lift"]].round(4),
    )
    return ChurnRun(
        run_id=run_id,
        fingerprint=fingerprint,
        window=window,
        settings=settings,
        specs=specs,
        selections=selections,
        models=models,
        selected=selected,
        champion=champion,
        metrics=metrics,
        curves=curves,
        validation=pd.concat(val_parts, ignore_index=True),
        notes=notes,
        n_rows={"train": len(train), "test": len(test)},
        timings=clock.total(),
    )
