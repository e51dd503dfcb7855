"""Customer segmentation: feature blocks, K-Means with K by silhouette, stable segment ids, profiles, names.

Public API:
- `SegmentModel`: fit K-Means on a feature frame, choosing K by silhouette; stable ids and reproducible labels.
- `build_feature_matrix`: standardised (and block-weighted) features from named column blocks.
- `profile_segments`: one row per segment (size, means, top topics, complaint rate, value share).
- `name_segments`: offline rule-based names and personas.
- `segment_customers`: the whole job for the dbt model `customer_segments` (RFM and fused segmentations).
"""

from python_jobs.segments.clustering import SegmentModel
from python_jobs.segments.features import FeatureBlocks, build_feature_matrix
from python_jobs.segments.job import segment_customers
from python_jobs.segments.naming import name_segments
from python_jobs.segments.profile import crosstab, profile_segments

__all__ = [
    "FeatureBlocks",
    "SegmentModel",
    "build_feature_matrix",
    "crosstab",
    "name_segments",
    "profile_segments",
    "segment_customers",
]
