"""Train, select, calibrate and evaluate both feature sets once; score as_of customers with the champion.

Input: churn_training_set rows (customer_id, snapshot_date, horizon_end_date, split train|test|score,
churned, registry feature columns, spend_rate, peer columns, *_max_event_at). Output: a `ChurnRun` holding
fitted models and the evaluation tables that churn_model_metrics / churn_model_curves publish.
`get_or_fit` / `cache.fit_or_reuse` store the run under its content hash; dbt's churn_model_runs owns it.

This module is the public face of a run; each concern lives in its own module:
settings (Settings, column names), splits (train/test/score parts, row cap, window, run id),
fitted (FittedModel, ChurnRun), fitting (fit), tables (metric, curve and peer rows),
active (the active-customer re-evaluation), cache (get_or_fit, registry records), predict (score).
"""

from __future__ import annotations

from python_jobs.churn.cache import get_or_fit, registry_records
from python_jobs.churn.fitted import ChurnRun, FittedModel
from python_jobs.churn.fitting import fit
from python_jobs.churn.predict import score
from python_jobs.churn.settings import (
    ACTIVE_DAYS,
    KEYS,
    LABEL,
    PEERS,
    SPEND_RATE,
    Settings,
    training_settings,
)
from python_jobs.churn.splits import run_id_for, split_rows

__all__ = [
    "ACTIVE_DAYS",
    "KEYS",
    "LABEL",
    "PEERS",
    "SPEND_RATE",
    "ChurnRun",
    "FittedModel",
    "Settings",
    "fit",
    "get_or_fit",
    "registry_records",
    "run_id_for",
    "score",
    "split_rows",
    "training_settings",
]
