"""Turn calibrated probabilities into business outputs: risk tiers by probability band and revenue at risk.

A tier is a probability band, so it means the same thing in every shop and every month: `high` = more likely
than not to churn within the horizon (p >= high_cut, default 0.5), `medium` = p >= medium_cut (default 0.25),
`low` = below. A likely churner is never `low`. How many customers the team can act on is a budget question,
answered by the intervention queue (rpt_intervention_queue), not by relabelling probabilities.
"""

from __future__ import annotations

import numpy as np

TIERS = ("high", "medium", "low")
DEFAULT_HIGH_CUT = 0.5
DEFAULT_MEDIUM_CUT = 0.25


def check_cuts(high_cut: float, medium_cut: float) -> None:
    if not 0 < medium_cut <= high_cut <= 1:
        raise ValueError(
            f"risk tier cuts must satisfy 0 < risk_medium_cut <= risk_high_cut <= 1 "
            f"(got {medium_cut} and {high_cut})"
        )
    if medium_cut > DEFAULT_HIGH_CUT:
        raise ValueError(
            f"risk_medium_cut {medium_cut} would call customers with a churn probability above 0.5 low risk"
        )


def risk_tiers(
    probability: np.ndarray, high_cut: float = DEFAULT_HIGH_CUT, medium_cut: float = DEFAULT_MEDIUM_CUT
) -> np.ndarray:
    """`high` for p >= high_cut, `medium` for medium_cut <= p < high_cut, else `low`."""
    check_cuts(high_cut, medium_cut)
    p = np.asarray(probability, dtype="float64")
    return np.where(p >= high_cut, "high", np.where(p >= medium_cut, "medium", "low")).astype(object)


def tier_rules(high_cut: float = DEFAULT_HIGH_CUT, medium_cut: float = DEFAULT_MEDIUM_CUT) -> dict[str, str]:
    """What each tier means, in words, for the tables and the report."""
    check_cuts(high_cut, medium_cut)
    return {
        "high": f"churn probability >= {high_cut:.2f}",
        "medium": f"churn probability {medium_cut:.2f} to {high_cut:.2f}",
        "low": f"churn probability < {medium_cut:.2f}",
    }


def revenue_at_risk(probability: np.ndarray, spend_rate: np.ndarray) -> np.ndarray:
    """Expected revenue lost over the horizon: churn probability x the customer's recent spend rate
    (spend per horizon, e.g. lookback spend scaled to the horizon length); null spend counts as 0."""
    spend = np.nan_to_num(np.asarray(spend_rate, dtype="float64"), nan=0.0)
    return np.asarray(probability, dtype="float64") * np.maximum(spend, 0.0)
