"""What the churn tests share: a small, fast candidate grid (the production grid is pipelines.CANDIDATES) and
the demo frame's feature specs."""

from __future__ import annotations

from python_jobs.churn import demo_frame, features
from python_jobs.churn.pipelines import Candidate

LOGREG = Candidate("logreg", (("C", 1.0),))
HGB = Candidate(
    "hgb", (("learning_rate", 0.2), ("max_leaf_nodes", 7), ("min_samples_leaf", 50), ("max_iter", 30))
)
FAST_CANDIDATES = (LOGREG, HGB)


def demo_specs() -> list[features.FeatureSpec]:
    """The feature specs of demo_frame.make_frame (baseline and text features, with their reason templates)."""
    return features.specs_from_frame(demo_frame.make_specs_frame())
