"""Score customers with a run's champion: calibrated probability, tier, revenue at risk and reasons."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from python_jobs.churn import guards
from python_jobs.churn.features import to_matrix
from python_jobs.churn.fitted import ChurnRun
from python_jobs.churn.reasons import REASON_COLUMNS, candidate_features, contributions, top_reasons
from python_jobs.churn.scoring import revenue_at_risk, risk_tiers, tier_rules
from python_jobs.churn.settings import KEYS, LABEL, SPEND_RATE, Settings

MAX_TREE_CANDIDATES = 12  # reasons.contributions' default
TREE_SAMPLE_ROWS = 2_000  # reasons.candidate_features' default


def score(
    run: ChurnRun, rows: pd.DataFrame, settings: Settings | None = None, candidates: np.ndarray | None = None
) -> pd.DataFrame:
    """One row per customer: calibrated probability, tier, revenue at risk and reasons from the champion.

    Labels are dropped before anything is computed: as_of scores cannot depend on them. Tier settings and
    threads come from `settings` (default: the run's), so changing tiers never needs a retrain. Rows are checked
    point-in-time (no feature event on or after the snapshot) before they are scored. `candidates`: the tree
    model's reason features, when the caller scores in batches (score_batches); else chosen on these rows.
    """
    settings = settings or run.settings
    guards.check_point_in_time(rows, require=False)
    with threadpool_limits(limits=settings.n_threads):
        rows = rows.drop(columns=[LABEL], errors="ignore").sort_values(KEYS, kind="stable")
        return _score(run, rows.reset_index(drop=True), settings, candidates)


def probabilities(run: ChurnRun, rows: pd.DataFrame, settings: Settings | None = None) -> np.ndarray:
    """The champion's calibrated probabilities for rows (in the given order)."""
    with threadpool_limits(limits=(settings or run.settings).n_threads):
        return run.champion_model.predict_proba(rows)


def tree_candidates(
    run: ChurnRun, p: np.ndarray, fetch_rows: Callable[[np.ndarray], pd.DataFrame], settings: Settings
) -> np.ndarray | None:
    """The tree champion's reason features for a scoring done in batches, chosen as scoring everything at once
    would choose them: on the same evenly spaced sample of the at-risk rows (p: every row's probability in
    scoring order; fetch_rows(positions) returns those rows). None for logreg (its reasons are exact)."""
    m = run.champion_model
    at_risk = np.flatnonzero(risk_tiers(p, settings.risk_high_cut, settings.risk_medium_cut) != "low")
    if m.kind == "logreg" or not len(at_risk):
        return None
    n = len(at_risk)
    if len(m.columns) <= MAX_TREE_CANDIDATES:
        return np.arange(len(m.columns))
    picks = at_risk[np.unique(np.linspace(0, n - 1, min(TREE_SAMPLE_ROWS, n)).astype(int))]
    X = to_matrix(fetch_rows(picks), m.columns)
    with threadpool_limits(limits=settings.n_threads):
        # all of the sample: candidate_features' own evenly spaced pick over it is then the identity
        return candidate_features(m.pipeline, X, m.reference, MAX_TREE_CANDIDATES, sample_rows=len(X))


def _score(
    run: ChurnRun, rows: pd.DataFrame, settings: Settings, candidates: np.ndarray | None
) -> pd.DataFrame:
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
        contrib = contributions(m.pipeline, m.kind, X[at_risk], m.reference, candidates=candidates)
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
