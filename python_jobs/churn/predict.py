"""Score customers with a run's champion: calibrated probability, tier, revenue at risk and reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from python_jobs.churn import guards
from python_jobs.churn.features import in_key_order, to_matrix
from python_jobs.churn.fitted import ChurnRun
from python_jobs.churn.pipelines import churn_probability, probability_from_logit
from python_jobs.churn.reasons import REASON_COLUMNS, TreeWalk, contributions, top_reasons
from python_jobs.churn.scoring import revenue_at_risk, risk_tiers, tier_rules
from python_jobs.churn.settings import KEYS, LABEL, SPEND_RATE, Settings


def score(
    run: ChurnRun, rows: pd.DataFrame, settings: Settings | None = None, workers: int | None = None
) -> pd.DataFrame:
    """One row per customer: calibrated probability, tier, revenue at risk and reasons from the champion.

    Labels are dropped before anything is computed: as_of scores cannot depend on them. Tier settings and
    threads come from `settings` (default: the run's), so changing tiers never needs a retrain. Rows are checked
    point-in-time (no feature event on or after the snapshot) before they are scored. Each row's output depends
    on that row alone, so scoring in batches or partitions gives the same rows as scoring all at once.
    `workers`: threads for the probabilities of a model without a tree walk (churn_probability; 1 in a process
    that is one of several); a tree champion's single walk (reasons.TreeWalk) spreads its trees over the cores.
    """
    settings = settings or run.settings
    guards.check_point_in_time(rows, require=False)
    with threadpool_limits(limits=settings.n_threads):
        rows = in_key_order(rows.drop(columns=[LABEL], errors="ignore"), KEYS)
        return _score(run, rows, settings, workers)


def _score(run: ChurnRun, rows: pd.DataFrame, settings: Settings, workers: int | None) -> pd.DataFrame:
    m = run.champion_model
    X = to_matrix(rows, m.columns)
    # a run pickled before reason_features existed chooses them on the at-risk rows, as it always did
    candidates = getattr(m, "reason_features", None)
    # a tree champion: one walk of its trees gives the probabilities and the reasons' starting sums
    walk = TreeWalk.start(m.pipeline, X, candidates)
    p = (
        probability_from_logit(m.calibrated, walk.logit)
        if walk
        else churn_probability(m.calibrated, X, workers)
    )
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
        contrib = (
            walk.contributions(at_risk, m.reference)
            if walk
            else contributions(m.pipeline, m.kind, X[at_risk], m.reference, candidates=candidates)
        )
        phrased_against = sorted({c for spec in run.specs for c in spec.context_fields()} & set(rows.columns))
        context = rows[phrased_against].iloc[at_risk].reset_index(drop=True)
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
