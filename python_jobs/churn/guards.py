"""Point-in-time guards run before any training (design section 6).

Every feature source in churn_training_set carries the timestamp of the latest event it aggregated for that
row (`feature_max_event_at` overall, plus optional per-source `<source>_max_event_at` columns). The columns
are computed in the same CTE as the features, from the same filtered events, so a feature that reads the label
window drags its own timestamp past the snapshot. The guard refuses to train when any of them is on or after
the row's snapshot_date, and refuses to score rows that carry a label.
"""

from __future__ import annotations

import pandas as pd

TIMESTAMP_SUFFIX = "_max_event_at"


class LeakageError(RuntimeError):
    pass


def event_time_columns(frame: pd.DataFrame) -> list[str]:
    return sorted(c for c in frame.columns if c.endswith(TIMESTAMP_SUFFIX))


def check_point_in_time(frame: pd.DataFrame, require: bool = True) -> None:
    """Raise LeakageError if any feature timestamp is not strictly before the row's snapshot_date."""
    cols = event_time_columns(frame)
    if not cols:
        if require:
            raise LeakageError(
                "training frame has no *_max_event_at column: cannot prove features precede the snapshot"
            )
        return
    snapshot = _timestamps(frame["snapshot_date"])
    problems = []
    for col in cols:
        ts = _timestamps(frame[col])
        bad = ts.notna() & (ts >= snapshot)
        if bad.any():
            first = frame.loc[bad].iloc[0]
            problems.append(
                f"{col}: {int(bad.sum())} rows with events on/after the snapshot "
                f"(e.g. customer {first['customer_id']} at {first['snapshot_date']}: {first[col]})"
            )
    if problems:
        raise LeakageError("features use events from on/after the snapshot date:\n  " + "\n  ".join(problems))


def _timestamps(values: pd.Series) -> pd.Series:
    """values as datetimes; columns read from the warehouse already are (pd.to_datetime would still box every
    value to decide on its cache: 4 s per 625k score rows)."""
    return values if pd.api.types.is_datetime64_any_dtype(values) else pd.to_datetime(values)


def check_unlabelled(score_rows: pd.DataFrame, label: str = "churned") -> None:
    """Rows scored at as_of_date must not carry a label (their horizon has not happened)."""
    if label in score_rows.columns and score_rows[label].notna().any():
        raise LeakageError(f"{int(score_rows[label].notna().sum())} score rows carry a label")
