"""Churn early warning: feature matrices, baseline and enhanced pipelines, out-of-time evaluation,
calibration, reason codes, scoring and a content-addressed model registry (design section 3).

Public entry points: `run.get_or_fit` (train once per data window, cached by model id), `scoring`,
`summary.comparison_text`.
"""
