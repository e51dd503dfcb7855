"""Churn early warning: feature matrices, baseline and enhanced pipelines, out-of-time evaluation,
calibration, reason codes, scoring and a content-addressed model registry (design section 3).

Public entry points: `run.get_or_fit` (train once per data window, stored by content hash; in dbt the
ml.churn_model_runs node owns the run: `adapter.fit_runs_table`), `scoring`,
`summary.comparison_text`.
"""
