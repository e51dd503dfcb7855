"""What a churn run holds: the fitted models (raw pipeline + frozen calibrated copy) and the run's tables."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.pipeline import Pipeline

from python_jobs.churn.features import FeatureSelection, FeatureSpec, to_matrix
from python_jobs.churn.pipelines import Candidate, churn_probability, raw_logit
from python_jobs.churn.settings import Settings


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
    # Tree models: the features whose occlusion reasons are computed (reasons.candidate_features), chosen at fit
    # time on training customers the model puts at risk, so a customer's reasons never depend on which other
    # customers are scored with them (batches, Spark partitions). None for logreg (exact reasons).
    reason_features: np.ndarray | None = None

    @property
    def kind(self) -> str:
        return self.candidate.kind

    def logit(self, frame: pd.DataFrame) -> np.ndarray:
        return raw_logit(self.pipeline, to_matrix(frame, self.columns))

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return churn_probability(self.calibrated, to_matrix(frame, self.columns))

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
    n_rows: dict[str, int] = field(default_factory=dict)  # train (after the cap) / test rows
    # Seconds per step of the fit, wall and CPU (user+sys): fingerprint, selection, final_fits, evaluation.
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def champion_model(self) -> FittedModel:
        return self.models[self.champion]
