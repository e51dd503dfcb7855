"""Turn calibrated probabilities into business outputs: risk tiers by capacity and revenue at risk."""

from __future__ import annotations

import numpy as np
import pandas as pd

TIERS = ("high", "medium", "low")


def risk_tiers(
    probability: np.ndarray,
    tie_key: pd.Series,
    high_share: float = 0.05,
    medium_share: float = 0.15,
    high_cut: float | None = None,
    medium_cut: float | None = None,
) -> np.ndarray:
    """`high` for the top `high_share` of customers by probability, `medium` for the next `medium_share`.

    Capacity-based by default (the retention team can call so many people); pass `high_cut`/`medium_cut`
    to use probability cuts instead. Ties are broken by `tie_key` so tiers are deterministic.
    """
    p = np.asarray(probability, dtype="float64")
    if high_cut is not None or medium_cut is not None:
        hc = 1.0 if high_cut is None else high_cut
        mc = hc if medium_cut is None else medium_cut
        return np.where(p >= hc, "high", np.where(p >= mc, "medium", "low")).astype(object)
    if not 0 <= high_share <= 1 or not 0 <= medium_share <= 1 or high_share + medium_share > 1:
        raise ValueError("risk shares must be in [0, 1] and sum to at most 1")
    n = len(p)
    order = np.lexsort((tie_key.astype(str).to_numpy(), -p))  # last key is primary
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    n_high = int(round(high_share * n))
    n_medium = int(round((high_share + medium_share) * n)) - n_high
    tiers = np.full(n, "low", dtype=object)
    tiers[rank < n_high] = "high"
    tiers[(rank >= n_high) & (rank < n_high + n_medium)] = "medium"
    return tiers


def revenue_at_risk(probability: np.ndarray, spend_rate: np.ndarray) -> np.ndarray:
    """Expected revenue lost over the horizon: churn probability x the customer's recent spend rate
    (spend per horizon, e.g. lookback spend scaled to the horizon length); null spend counts as 0."""
    spend = np.nan_to_num(np.asarray(spend_rate, dtype="float64"), nan=0.0)
    return np.asarray(probability, dtype="float64") * np.maximum(spend, 0.0)
