"""The feature registry (seeds/churn_features.csv) and feature-matrix assembly.

The seed is the one place feature columns are listed: name, feature_set (baseline | text), a description and a
reason template used to turn a driver into readable text. A feature set degrades to the columns that exist and
carry information on the training rows: missing, all-null and constant columns are dropped and the reason is
recorded (it ends up in the model registry).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from python_jobs.config import REPO_ROOT

log = logging.getLogger(__name__)

SEED_PATH = REPO_ROOT / "seeds" / "churn_features.csv"
FEATURE_SETS = ("baseline", "enhanced")
SEED_COLUMNS = ["feature_name", "feature_set", "description", "reason_template"]


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    feature_set: str  # baseline | text
    description: str
    reason_template: str
    missing_text: str = ""  # reason text when the value is null (e.g. "only one order so far")

    def reason(self, value: float) -> str:
        """Readable text for this feature as a driver, e.g. '3 negative reviews about delivery'.

        Templates may use {value}, {pct} (100 x value), {change_pct} (|value - 1| x 100, for ratios vs a prior
        period) and {direction} ('down' below 1, else 'up'): "orders {direction} {change_pct:.0f}% vs ...".
        """
        if value is None or not np.isfinite(value):
            return self.missing_text or f"{self.description}: none"
        fields = {
            "value": value,
            "pct": 100 * value,
            "change_pct": abs(value - 1) * 100,
            "direction": "down" if value < 1 else "up",
        }
        try:
            return self.reason_template.format(**fields)
        except (ValueError, KeyError, IndexError):
            return f"{self.description}: {value:.3g}"


@dataclass(frozen=True)
class FeatureSelection:
    feature_set: str
    columns: list[str]
    dropped: dict[str, str] = field(default_factory=dict)

    @property
    def degraded(self) -> bool:
        return bool(self.dropped)


def specs_from_frame(seed: pd.DataFrame) -> list[FeatureSpec]:
    missing = set(SEED_COLUMNS) - set(seed.columns)
    if missing:
        raise ValueError(f"feature registry lacks columns {sorted(missing)}")
    bad = set(seed["feature_set"]) - {"baseline", "text"}
    if bad:
        raise ValueError(f"unknown feature_set values {sorted(bad)} (expected baseline | text)")
    if seed["feature_name"].duplicated().any():
        raise ValueError("feature registry lists a feature twice")
    return [
        FeatureSpec(
            name=str(r.feature_name),
            feature_set=str(r.feature_set),
            description=str(r.description),
            reason_template=str(r.reason_template) if pd.notna(r.reason_template) else "",
            missing_text=str(getattr(r, "missing_text", "") or "")
            if pd.notna(getattr(r, "missing_text", ""))
            else "",
        )
        for r in seed.itertuples(index=False)
    ]


def load_specs(path: Path | None = None) -> list[FeatureSpec]:
    return specs_from_frame(pd.read_csv(path or SEED_PATH))


def wanted(specs: list[FeatureSpec], feature_set: str) -> list[FeatureSpec]:
    """baseline = behaviour features only; enhanced = behaviour + text."""
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"feature_set must be one of {FEATURE_SETS}")
    allowed = {"baseline"} if feature_set == "baseline" else {"baseline", "text"}
    return [s for s in specs if s.feature_set in allowed]


def select_features(train: pd.DataFrame, specs: list[FeatureSpec], feature_set: str) -> FeatureSelection:
    """The registered features of a set that exist in `train` and vary there (decided on training rows only)."""
    columns: list[str] = []
    dropped: dict[str, str] = {}
    for spec in wanted(specs, feature_set):
        if spec.name not in train.columns:
            dropped[spec.name] = "missing"
            continue
        values = pd.Series(numeric(train[spec.name]))
        if values.isna().all():
            dropped[spec.name] = "all_null"
        elif values.nunique(dropna=True) < 2:
            dropped[spec.name] = "constant"
        else:
            columns.append(spec.name)
    if dropped:
        log.info("feature set %s: dropped %s", feature_set, dropped)
    if not columns:
        raise ValueError(f"feature set {feature_set}: no usable feature columns")
    return FeatureSelection(feature_set=feature_set, columns=columns, dropped=dropped)


def to_matrix(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Float64 matrix in registry order; booleans become 0/1, nulls stay NaN (pipelines impute)."""
    return np.column_stack([numeric(frame[c]) for c in columns])


def numeric(values: pd.Series) -> np.ndarray:
    """Any numeric/boolean/nullable column as float64 with NaN for nulls and infinities."""
    out = pd.to_numeric(values, errors="coerce")
    arr = out.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    arr[np.isinf(arr)] = np.nan
    return arr
