"""A synthetic churn_training_set frame (no dbt needed) for unit tests and the benchmark.

Customers carry a latent satisfaction that drifts; behaviour features see part of it, text features see
another part, so an enhanced model has something real to add. Snapshots are monthly; the last one is the
as_of snapshot (split 'score', no label), the latest fully observed one is 'test', and earlier snapshots
whose 90-day horizon closed by the test snapshot are 'train'.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HORIZON_DAYS = 90


def make_frame(
    n_customers: int = 2_000,
    n_snapshots: int = 10,
    seed: int = 0,
    with_text: bool = True,
    n_extra_features: int = 0,
    max_train_rows: int | None = None,
) -> pd.DataFrame:
    """`n_extra_features` noise columns (extra_1..) widen the frame to a realistic feature count;
    `max_train_rows` samples training rows the way the dbt adapter caps them, keeping memory bounded."""
    rng = np.random.default_rng(seed)
    snaps = pd.date_range("2024-01-01", periods=n_snapshots, freq="MS")
    n = n_customers * n_snapshots
    cust = np.tile(np.arange(n_customers), n_snapshots)
    snap_idx = np.repeat(np.arange(n_snapshots), n_customers)
    value = rng.lognormal(4.0, 0.6, n_customers)[cust]
    cadence = rng.gamma(2.0, 20.0, n_customers)[cust]  # mean days between orders
    satisfaction = rng.normal(0, 1, n_customers)[cust] + 0.3 * rng.normal(0, 1, n)
    recency = rng.exponential(cadence * np.exp(-0.3 * satisfaction))
    freq = rng.poisson(365 / cadence * np.exp(0.2 * satisfaction)) + 1
    overdue = recency / cadence
    negative_texts = rng.poisson(np.exp(-0.5 - 1.0 * satisfaction))
    sentiment = np.tanh(0.8 * satisfaction + 0.3 * rng.normal(0, 1, n))
    logit = -0.3 + 0.9 * np.log1p(overdue) - 0.35 * np.log1p(freq) - 0.9 * satisfaction
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame(
        {
            "customer_id": np.char.add("c", cust.astype(str)),
            "snapshot_date": snaps[snap_idx],
            "recency_days": recency.round(0),
            "frequency_365d": freq.astype("float64"),
            "monetary_365d": (freq * value).round(2),
            "avg_order_value": value.round(2),
            "overdue_ratio": overdue,
            "rfm_score": (5 - np.minimum(recency // 30, 4) + np.minimum(freq // 3, 5)).astype("float64"),
            "constant_feature": 1.0,
            "review_negative_90d": negative_texts.astype("float64") if with_text else np.nan,
            "mean_sentiment": sentiment if with_text else np.nan,
        }
    )
    frame["horizon_end_date"] = frame["snapshot_date"] + pd.Timedelta(days=HORIZON_DAYS)
    frame["feature_max_event_at"] = frame["snapshot_date"] - pd.to_timedelta(recency + 1, unit="D")
    frame["spend_rate"] = frame["monetary_365d"] / 365 * HORIZON_DAYS
    frame["churned"] = pd.array(churned, dtype="boolean")
    as_of = snaps[-1]
    test_snap = max(s for s in snaps if s + pd.Timedelta(days=HORIZON_DAYS) <= as_of)
    frame["split"] = np.select(
        [
            frame["snapshot_date"] == as_of,
            frame["snapshot_date"] == test_snap,
            frame["horizon_end_date"] <= test_snap,
        ],
        ["score", "test", "train"],
        default="gap",
    )
    frame.loc[frame["split"] == "score", "churned"] = pd.NA
    frame = frame[frame["split"] != "gap"]
    is_train = (frame["split"] == "train").to_numpy()
    if max_train_rows is not None and is_train.sum() > max_train_rows:
        keep = ~is_train | (rng.random(len(frame)) < max_train_rows / is_train.sum())
        frame = frame[keep]
    frame = frame.reset_index(drop=True)
    if n_extra_features:
        extra = rng.normal(0, 1, (len(frame), n_extra_features)).astype("float64")
        frame = pd.concat(
            [frame, pd.DataFrame(extra, columns=[f"extra_{i + 1}" for i in range(n_extra_features)])], axis=1
        )
    return frame


def make_specs_frame(n_extra_features: int = 0) -> pd.DataFrame:
    rows = [
        ("recency_days", "baseline", "days since last order", "{value:.0f} days since the last order"),
        ("frequency_365d", "baseline", "orders in the last 365 days", "only {value:.0f} orders in a year"),
        ("monetary_365d", "baseline", "spend in the last 365 days", "spent {value:,.0f} in a year"),
        ("avg_order_value", "baseline", "average order value", "average order {value:,.0f}"),
        ("overdue_ratio", "baseline", "recency / usual gap", "next order overdue: {value:.1f}x"),
        ("constant_feature", "baseline", "a constant", "{value}"),
        ("not_in_frame", "baseline", "a missing column", "{value}"),
        ("review_negative_90d", "text", "negative reviews, 90 days", "{value:.0f} negative reviews in 90d"),
        ("mean_sentiment", "text", "mean review sentiment", "mean sentiment {value:+.2f}"),
    ]
    rows += [
        (f"extra_{i + 1}", "baseline", f"noise feature {i + 1}", "{value:.2f}")
        for i in range(n_extra_features)
    ]
    return pd.DataFrame(rows, columns=["feature_name", "feature_set", "description", "reason_template"])
