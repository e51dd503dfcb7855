"""Train, select, calibrate and evaluate both feature sets once; score as_of customers with the champion.

Input: churn_training_set rows (customer_id, snapshot_date, horizon_end_date, split train|test|score,
churned, registry feature columns, spend_rate, peer columns, *_max_event_at). Output: a `ChurnRun` holding
fitted models and the evaluation tables that churn_model_metrics / churn_model_curves publish.
`get_or_fit` caches the run under its content hash, so dbt's three ML models share one training.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from python_jobs.churn import evaluate, guards, registry, selection
from python_jobs.churn.features import FEATURE_SETS, FeatureSelection, FeatureSpec, select_features, to_matrix
from python_jobs.churn.pipelines import CANDIDATES, Candidate, make_pipeline, raw_logit
from python_jobs.churn.reasons import REASON_COLUMNS, contributions, top_reasons
from python_jobs.churn.scoring import (
    DEFAULT_HIGH_CUT,
    DEFAULT_MEDIUM_CUT,
    revenue_at_risk,
    risk_tiers,
    tier_rules,
)

log = logging.getLogger(__name__)

LABEL = "churned"
KEYS = ["customer_id", "snapshot_date"]
# Peers: name -> (column, sign) so that sign * column is "higher = more likely to churn".
PEERS = {"recency": ("recency_days", 1.0), "rfm_score": ("rfm_score", -1.0)}
SPEND_RATE = "spend_rate"
ACTIVE_DAYS = 60  # "recently active" test customers: ordered within this many days before the snapshot


@dataclass(frozen=True)
class Settings:
    seed: int = 42
    # Risk tiers are probability bands (scoring.risk_tiers): high >= risk_high_cut, medium >= risk_medium_cut.
    risk_high_cut: float = DEFAULT_HIGH_CUT
    risk_medium_cut: float = DEFAULT_MEDIUM_CUT
    max_train_rows: int = 400_000
    max_fold_rows: int = 200_000  # fit rows per validation fold (model choice), the final fit uses all
    n_folds: int = 2
    n_boot: int = 500
    # BLAS/OpenMP threads while fitting and scoring. 1 by default: on a small shared machine OpenMP's
    # barriers in HistGradientBoosting cost far more than a second thread gains (measured 5-7x slower).
    n_threads: int = 1
    candidates: tuple[Candidate, ...] = CANDIDATES


@dataclass
class FittedModel:
    model_id: str
    feature_set: str
    candidate: Candidate
    columns: list[str]
    pipeline: Pipeline  # raw log-odds, for reasons and rankings
    calibrated: CalibratedClassifierCV  # the same fitted pipeline (frozen) + its sigmoid calibrator
    threshold: float
    reference: np.ndarray  # training medians, the occlusion baseline for tree reasons
    val_roc_auc: float

    @property
    def kind(self) -> str:
        return self.candidate.kind

    def logit(self, frame: pd.DataFrame) -> np.ndarray:
        return raw_logit(self.pipeline, to_matrix(frame, self.columns))

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return self.calibrated.predict_proba(to_matrix(frame, self.columns))[:, 1]

    @property
    def calibration(self) -> dict[str, float]:
        """p = 1 / (1 + exp(-(slope * logit + intercept))), sklearn's sigmoid calibrator in that form."""
        sig = self.calibrated.calibrated_classifiers_[0].calibrators[0]
        return {"slope": -float(sig.a_), "intercept": -float(sig.b_)}


@dataclass
class ChurnRun:
    run_id: str
    fingerprint: str
    window: dict[str, str]
    settings: Settings
    specs: list[FeatureSpec]
    selections: dict[str, FeatureSelection]
    models: dict[tuple[str, str], FittedModel]
    selected: dict[str, str]  # feature_set -> kind chosen by validation
    champion: tuple[str, str]
    metrics: pd.DataFrame
    curves: pd.DataFrame
    validation: pd.DataFrame
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def champion_model(self) -> FittedModel:
        return self.models[self.champion]


def split_rows(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    parts = {s: frame[frame["split"] == s].reset_index(drop=True) for s in ("train", "test", "score")}
    for s in ("train", "test"):
        parts[s] = parts[s][parts[s][LABEL].notna()].reset_index(drop=True)
    return parts


def _cap_rows(train: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    """Deterministic hash sample of (customer, snapshot) rows when the training set exceeds max_rows."""
    if len(train) <= max_rows:
        return train
    h = pd.util.hash_pandas_object(train[KEYS].astype(str), index=False, hash_key=f"churn{seed:012d}"[:16])
    u = (h.to_numpy() % 1_000_003) / 1_000_003
    keep = u < max_rows / len(train)
    log.info("training rows capped: %d of %d kept", int(keep.sum()), len(train))
    return train[keep].reset_index(drop=True)


def _window(parts: dict[str, pd.DataFrame]) -> dict[str, str]:
    def span(df: pd.DataFrame, agg: str) -> str:
        return str(pd.to_datetime(df["snapshot_date"]).agg(agg).date()) if len(df) else ""

    return {
        "train_start": span(parts["train"], "min"),
        "train_end": span(parts["train"], "max"),
        "test_snapshot": span(parts["test"], "max"),
        "score_snapshot": span(parts["score"], "max"),
    }


def training_settings(settings: Settings) -> str:
    """The settings that change what is learned or measured (tiers and thread counts do not)."""
    keep = ("seed", "max_train_rows", "max_fold_rows", "n_folds", "n_boot", "candidates")
    return repr({k: getattr(settings, k) for k in keep})


def run_id_for(frame: pd.DataFrame, specs: list[FeatureSpec], settings: Settings) -> tuple[str, str]:
    """(run_id, fingerprint) of the labelled rows the run would learn and be evaluated on."""
    labelled = frame[frame["split"].isin(["train", "test"])]
    cols = [c for c in frame.columns if c != "split"] + ["split"]
    fingerprint = registry.data_fingerprint(labelled, cols)
    run_id = registry.stable_hash(
        {
            "fingerprint": fingerprint,
            "window": _window(split_rows(frame)),
            "specs": [asdict(s) for s in specs],
            "settings": training_settings(settings),
            "code": registry.code_version(),
        }
    )
    return run_id, fingerprint


def _fit_feature_set(
    train: pd.DataFrame,
    feature_sel: FeatureSelection,
    folds: list[selection.Fold],
    settings: Settings,
    fingerprint: str,
    window: dict[str, str],
) -> tuple[dict[str, FittedModel], pd.DataFrame, str]:
    X = to_matrix(train, feature_sel.columns)
    y = train[LABEL].astype(int).to_numpy()
    sel = selection.select(X, y, folds, settings.candidates, settings.seed, settings.max_fold_rows)
    reference = np.nan_to_num(np.nanmedian(X, axis=0), nan=0.0)
    fitted: dict[str, FittedModel] = {}
    # The model that scores is the one that is calibrated: fitted on every training snapshot but the latest,
    # then frozen, sigmoid-calibrated and its threshold chosen on the latest, which it never saw (out-of-time).
    fit_idx, cal_idx = selection.calibration_split(train["snapshot_date"], y, folds)
    for kind, cand in sel.best.items():
        pipeline = make_pipeline(cand, settings.seed).fit(X[fit_idx], y[fit_idx])
        calibrated = CalibratedClassifierCV(FrozenEstimator(pipeline), method="sigmoid")
        calibrated.fit(X[cal_idx], y[cal_idx])
        threshold = evaluate.choose_threshold(y[cal_idx], calibrated.predict_proba(X[cal_idx])[:, 1])
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
        fitted[kind] = FittedModel(
            model_id=model_id,
            feature_set=feature_sel.feature_set,
            candidate=cand,
            columns=feature_sel.columns,
            pipeline=pipeline,
            calibrated=calibrated,
            threshold=threshold,
            reference=reference,
            val_roc_auc=sel.val_auc(kind),
        )
    scores = sel.scores.assign(feature_set=feature_sel.feature_set)
    return fitted, scores, sel.best_kind


def _model_rows(
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
    reps = evaluate.bootstrap_auc_replicates(y, scores, settings.n_boot, settings.seed)
    base_id = run_models[("baseline", selected["baseline"])].model_id
    diffs = [
        evaluate.auc_diff_summary(y, scores[base_id], scores[mid], reps[base_id], reps[mid])
        for mid in metrics["model_id"]
    ]
    metrics = pd.concat([metrics, pd.DataFrame(diffs)], axis=1)
    metrics["reference_model_id"] = base_id
    metrics["roc_auc_ci_low"] = [float(np.quantile(reps[mid], 0.025)) for mid in metrics["model_id"]]
    metrics["roc_auc_ci_high"] = [float(np.quantile(reps[mid], 0.975)) for mid in metrics["model_id"]]
    metrics = pd.concat([metrics, _vs_best_peer(metrics, y, scores, reps)], axis=1)
    metrics = pd.concat(
        [metrics, _active_rows(test, y, scores, metrics["model_id"], base_id, settings)], axis=1
    )
    curves = pd.concat(curve_parts, ignore_index=True)
    return metrics, curves


def _vs_best_peer(
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


def _active_rows(
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
    rows = []
    for mid in model_ids:
        d = evaluate.bootstrap_auc_diff(
            ya, scores[base_id][mask], scores[mid][mask], settings.n_boot, settings.seed
        )
        rows.append(
            [
                float(mask.sum()),
                float(ya.mean()),
                evaluate.ranking_metrics(ya, scores[mid][mask])["roc_auc"],
                d["auc_diff"],
                d["auc_diff_ci_low"],
                d["auc_diff_ci_high"],
            ]
        )
    return pd.DataFrame(rows, columns=cols)


def fit(frame: pd.DataFrame, specs: list[FeatureSpec], settings: Settings | None = None) -> ChurnRun:
    settings = settings or Settings()
    with threadpool_limits(limits=settings.n_threads):
        return _fit(frame, specs, settings)


def _fit(frame: pd.DataFrame, specs: list[FeatureSpec], settings: Settings) -> ChurnRun:
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
    window = _window(parts)
    train = _cap_rows(parts["train"], settings.max_train_rows, settings.seed)
    test = parts["test"]
    folds = selection.time_folds(
        train["snapshot_date"],
        train["horizon_end_date"],
        train[LABEL].astype(int).to_numpy(),
        train["customer_id"],
        settings.n_folds,
    )
    selections = {fs: select_features(train, specs, fs) for fs in FEATURE_SETS}
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
    for fs in feature_sets:
        fitted, val, best_kind = _fit_feature_set(train, selections[fs], folds, settings, fingerprint, window)
        models.update({(fs, k): m for k, m in fitted.items()})
        val_parts.append(val)
        selected[fs] = best_kind
    champion = max(((fs, selected[fs]) for fs in feature_sets), key=lambda key: models[key].val_roc_auc)
    metrics, curves = _model_rows(models, test, selected, champion, settings)
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
    )


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


def score(run: ChurnRun, rows: pd.DataFrame, settings: Settings | None = None) -> pd.DataFrame:
    """One row per customer: calibrated probability, tier, revenue at risk and reasons from the champion.

    Labels are dropped before anything is computed: as_of scores cannot depend on them. Tier settings and
    threads come from `settings` (default: the run's), so changing tiers never needs a retrain.
    """
    settings = settings or run.settings
    with threadpool_limits(limits=settings.n_threads):
        rows = rows.drop(columns=[LABEL], errors="ignore").sort_values(KEYS, kind="stable")
        return _score(run, rows.reset_index(drop=True), settings)


def _score(run: ChurnRun, rows: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    m = run.champion_model
    X = to_matrix(rows, m.columns)
    p = m.calibrated.predict_proba(X)[:, 1]
    spend = (
        rows[SPEND_RATE].to_numpy(dtype="float64", na_value=np.nan)
        if SPEND_RATE in rows
        else np.zeros(len(rows))
    )
    tiers = risk_tiers(p, settings.risk_high_cut, settings.risk_medium_cut)
    # Low-risk customers get no reasons: a driver of a 5% probability is not news to act on.
    at_risk = np.flatnonzero(tiers != "low")
    reasons = pd.DataFrame(index=range(len(rows)), columns=REASON_COLUMNS, dtype=object)
    if len(at_risk):
        contrib = contributions(m.pipeline, m.kind, X[at_risk], m.reference)
        context = rows.iloc[at_risk].reset_index(drop=True)
        found = top_reasons(contrib, X[at_risk], m.columns, {s.name: s for s in run.specs}, context=context)
        reasons.iloc[at_risk] = found[REASON_COLUMNS].to_numpy()
    rules = tier_rules(settings.risk_high_cut, settings.risk_medium_cut)
    out = pd.DataFrame(
        {
            "customer_id": rows["customer_id"].astype(str),
            "snapshot_date": pd.to_datetime(rows["snapshot_date"]).dt.date,
            "churn_probability": p,
            "risk_tier": tiers,
            "risk_tier_rule": [rules[t] for t in tiers],
            "spend_rate": np.nan_to_num(spend, nan=0.0),
            "revenue_at_risk": revenue_at_risk(p, spend),
        }
    )
    out = pd.concat([out, reasons.where(reasons.notna(), None)], axis=1)
    out["model_id"] = m.model_id
    out["feature_set"] = m.feature_set
    out["model_kind"] = m.kind
    out["run_id"] = run.run_id
    return out
