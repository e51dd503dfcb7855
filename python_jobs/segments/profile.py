"""Segment profiles (one row per segment) and the cross-tab between two segmentations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd


def profile_segments(
    frame: pd.DataFrame,
    segment_col: str,
    mean_cols: Sequence[str] = (),
    topic_cols: Mapping[str, str] | None = None,
    value_col: str | None = None,
    n_topics: int = 3,
) -> pd.DataFrame:
    """One row per segment: size, share, means of `mean_cols`, top topics, complaint rate, value share. Churn
    rates and risk are not profiled here: rpt_segment_summary joins them to the segments, one fact in one place.

    `topic_cols` maps a per-customer topic column (count or 0/1) to a topic name; a segment's top topics are
    those with the highest lift over the population mean (ties by absolute rate), listed when above zero.
    """
    topic_cols = {c: t for c, t in (topic_cols or {}).items() if c in frame.columns}
    present = [c for c in mean_cols if c in frame.columns]
    g = frame.groupby(segment_col, sort=True)
    out = pd.DataFrame({"customers": g.size()})
    out["customer_share"] = out["customers"] / out["customers"].sum()
    if present:
        out = out.join(g[present].mean().add_prefix("mean_"))
    if value_col and value_col in frame.columns:
        total = frame[value_col].sum()
        out["value_share"] = g[value_col].sum() / total if total else np.nan
    if topic_cols:
        rates = (frame[list(topic_cols)] > 0).groupby(frame[segment_col]).mean()
        base = (frame[list(topic_cols)] > 0).mean().replace(0, np.nan)
        lift = rates / base
        tops = []
        for seg in out.index:
            r, li = rates.loc[seg], lift.loc[seg].fillna(0)
            ranked = sorted((c for c in topic_cols if r[c] > 0), key=lambda c: (-li[c], -r[c]))
            tops.append([topic_cols[c] for c in ranked[:n_topics]])
        out["top_topics"] = tops
        out["complaint_rate"] = (frame[list(topic_cols)] > 0).any(axis=1).groupby(frame[segment_col]).mean()
    return out.reset_index().rename(columns={segment_col: "segment_id"})


def crosstab(a: pd.Series, b: pd.Series, normalize: bool = False) -> pd.DataFrame:
    """Rows: segments of `a`; columns: segments of `b`; counts (or row shares)."""
    return pd.crosstab(a, b, normalize="index" if normalize else False)
