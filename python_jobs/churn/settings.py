"""Run settings and the column names every step of a churn run agrees on."""

from __future__ import annotations

from dataclasses import dataclass

from python_jobs.churn.pipelines import CANDIDATES, Candidate
from python_jobs.churn.scoring import DEFAULT_HIGH_CUT, DEFAULT_MEDIUM_CUT

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
    # Fit rows per validation fold (model choice only; the final fit uses all). Measured on a 100k world
    # (400k training rows): 200k -> 100k halves selection (80 -> 39 s CPU), picks the same candidates and
    # champion (test ROC-AUC unchanged, 0.9412); validation AUCs move by <= 0.0011.
    max_fold_rows: int = 100_000
    n_folds: int = 2
    n_boot: int = 500
    # Test rows the bootstrap resamples: above this, a fixed random sample with rescaled replicates
    # (evaluate.bootstrap_auc_replicates), so the CI's cost does not grow with the customer count.
    max_boot_rows: int = 20_000
    # BLAS/OpenMP threads while fitting and scoring. 1 by default: on a small shared machine OpenMP's
    # barriers in HistGradientBoosting cost far more than a second thread gains (measured 5-7x slower).
    n_threads: int = 1
    candidates: tuple[Candidate, ...] = CANDIDATES


def training_settings(settings: Settings) -> str:
    """The settings that change what is learned or measured (tiers and thread counts do not)."""
    keep = ("seed", "max_train_rows", "max_fold_rows", "n_folds", "n_boot", "max_boot_rows", "candidates")
    return repr({k: getattr(settings, k) for k in keep})
