"""Probability calibration on out-of-time predictions.

Class weights (logreg) and boosting shrinkage distort probabilities. A Platt scaler, fitted on the raw log-odds
a model gave to a later snapshot it did not train on, maps raw log-odds to calibrated probabilities. It is
monotone, so rankings, ROC-AUC and reason codes (which live in raw log-odds) are unchanged.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression


class PlattCalibrator(BaseEstimator):
    def fit(self, logit: np.ndarray, y: np.ndarray) -> PlattCalibrator:
        lr = LogisticRegression(C=1e6, max_iter=1000, tol=1e-8)
        lr.fit(np.asarray(logit, dtype="float64").reshape(-1, 1), np.asarray(y, dtype=int))
        self.slope_ = float(lr.coef_[0, 0])
        self.intercept_ = float(lr.intercept_[0])
        return self

    def transform(self, logit: np.ndarray) -> np.ndarray:
        z = self.slope_ * np.asarray(logit, dtype="float64") + self.intercept_
        return 1.0 / (1.0 + np.exp(-z))
