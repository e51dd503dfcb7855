"""Segmentation: K choice, stable ids, reproducibility, profiles and names on small synthetic frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from python_jobs.segments import (
    FeatureBlocks,
    SegmentModel,
    build_feature_matrix,
    name_segments,
    profile_segments,
    segment_customers,
)
from python_jobs.segments.job import topic_columns


def _blobs(k: int, seed: int = 0, n: int = 1200) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_blobs(n_samples=n, centers=k, cluster_std=0.6, n_features=3, random_state=seed)
    return X, y


@pytest.mark.parametrize("k", [3, 4, 5])
def test_k_chosen_by_silhouette_recovers_planted_clusters(k: int) -> None:
    X, y = _blobs(k)
    model = SegmentModel(k_min=2, k_max=7, seed=1).fit(X)
    assert model.k_ == k
    assert max(model.silhouette_by_k_, key=model.silhouette_by_k_.get) == k
    assert model.silhouette_ == pytest.approx(model.silhouette_by_k_[k], abs=0.02)
    assert adjusted_rand_score(y, model.labels_) > 0.95
    assert set(model.labels_) == set(range(1, k + 1))


def test_silhouette_on_a_sample_still_picks_k() -> None:
    X, _ = _blobs(4, n=6000)
    model = SegmentModel(k_min=2, k_max=6, seed=3, silhouette_sample=500).fit(X)
    assert model.k_ == 4


def test_labels_stable_across_runs_and_seeds() -> None:
    X, _ = _blobs(4, seed=7)
    order_by = X[:, 0]
    a = SegmentModel(k_min=4, k_max=4, seed=1).fit(X, order_by=order_by)
    b = SegmentModel(k_min=4, k_max=4, seed=1).fit(X, order_by=order_by)
    c = SegmentModel(k_min=4, k_max=4, seed=99).fit(X, order_by=order_by)
    np.testing.assert_array_equal(a.labels_, b.labels_)  # reproducible for a fixed seed
    np.testing.assert_array_equal(a.labels_, c.labels_)  # ids do not depend on K-Means' label order
    # id 1 is the cluster with the highest canonical statistic
    means = [order_by[a.labels_ == s].mean() for s in range(1, 5)]
    assert means == sorted(means, reverse=True)
    np.testing.assert_array_equal(a.predict(X), a.labels_)


def test_minibatch_path_for_large_inputs() -> None:
    X, y = _blobs(3, n=3000)
    model = SegmentModel(k_min=2, k_max=4, seed=0, max_fit_rows=1000, minibatch_above=500).fit(X)
    assert model.k_ == 3 and len(model.labels_) == 3000
    assert adjusted_rand_score(y, model.labels_) > 0.9


def _world(n: int = 900, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Three customer types: high-value loyal, low-value lapsing, mid-value unhappy with delivery."""
    rng = np.random.default_rng(seed)
    kind = np.repeat([0, 1, 2], n // 3)
    ids = [f"c{i:05d}" for i in range(len(kind))]
    rfm = pd.DataFrame(
        {
            "customer_id": ids,
            "snapshot_date": pd.Timestamp("2026-01-01"),
            "recency_days": np.choose(kind, [10, 200, 40]) * rng.uniform(0.7, 1.3, len(kind)),
            "frequency": np.choose(kind, [12, 1, 4]) * rng.uniform(0.8, 1.2, len(kind)),
            "monetary": np.choose(kind, [2000, 60, 400]) * rng.uniform(0.8, 1.2, len(kind)),
            "r_score": 3,
        }
    )
    activity = pd.DataFrame(
        {
            "customer_id": ids,
            "sessions_30d": np.choose(kind, [15, 0, 5]) + rng.poisson(1, len(kind)),
            "days_since_last_visit": np.choose(kind, [2, 150, 20]) * rng.uniform(0.8, 1.2, len(kind)),
        }
    )
    emb = rng.normal(size=(len(kind), 16)) + np.eye(16)[kind * 3] * 3
    voice = pd.DataFrame(
        {
            "customer_id": ids,
            "mean_sentiment": np.choose(kind, [0.6, 0.0, -0.7]) + rng.normal(0, 0.1, len(kind)),
            "topic_delivery_count": np.where(kind == 2, rng.poisson(2, len(kind)), 0),
            "topic_price_count": rng.poisson(0.2, len(kind)),
            "embedding": list(emb.astype("float32")),
        }
    )
    return rfm, activity, voice


def test_segment_customers_end_to_end_on_frames() -> None:
    rfm, activity, voice = _world()
    res = segment_customers(rfm, activity, voice, k_min=2, k_max=6, seed=5)
    a = res.assignments
    assert len(a) == len(rfm) and a["customer_id"].is_unique
    assert {"rfm_segment_id", "fused_segment_id", "rfm_segment_name", "fused_k", "fused_silhouette"} <= set(a)
    assert a["fused_k"].iloc[0] == 3
    fused = res.profiles[res.profiles.segmentation == "fused"].set_index("segment_id")
    # segment 1 = highest monetary; the unhappy-with-delivery group is named for it
    assert fused.loc[1, "mean_monetary"] == fused["mean_monetary"].max()
    names = set(fused["segment_name"])
    assert any("unhappy with delivery" in n for n in names), names
    assert fused["customers"].sum() == len(rfm)
    assert "embedding" not in fused.loc[1, "features"] and "emb_pc1" in fused.loc[1, "features"]
    # rerun on the same rows in another order (warehouse reads have none): identical assignments
    shuffled = [f.sample(frac=1.0, random_state=3) for f in (rfm, activity, voice)]
    again = segment_customers(*shuffled, k_min=2, k_max=6, seed=5)
    pd.testing.assert_frame_equal(a, again.assignments)


def test_inputs_the_warehouse_aligns_segment_as_in_any_order() -> None:
    """customer_segments reads rfm in customer_id order and activity and voice left-joined to it row for row
    (null rows for customers without one); segment_customers then skips its sort and lookups. Same result."""
    rfm, activity, voice = _world()
    activity, voice = activity.iloc[::2], voice.drop(columns="embedding").iloc[1::3]  # customers without rows
    kwargs = {"k_min": 2, "k_max": 6, "seed": 5}
    expected = segment_customers(
        *(f.sample(frac=1.0, random_state=3) for f in (rfm, activity, voice)), **kwargs
    )
    ordered = rfm.sort_values("customer_id").reset_index(drop=True)
    aligned = [ordered[["customer_id"]].merge(f, on="customer_id", how="left") for f in (activity, voice)]
    assert aligned[0].isna().any().any() and aligned[1].isna().any().any()
    got = segment_customers(ordered, *aligned, **kwargs)
    pd.testing.assert_frame_equal(expected.assignments, got.assignments)
    pd.testing.assert_frame_equal(expected.profiles, got.profiles)


def test_profiles_and_rule_names() -> None:
    rfm, _, voice = _world()
    frame = rfm.merge(voice.drop(columns="embedding"))
    frame["segment"] = np.repeat([1, 3, 2], len(frame) // 3)
    # outcomes beside the features are not profiled: rpt_segment_summary states a segment's churn and risk
    frame["churned"] = frame["segment"] != 1
    frame["churn_probability"] = frame["segment"] / 4
    prof = profile_segments(
        frame,
        "segment",
        mean_cols=["recency_days", "frequency", "monetary", "mean_sentiment"],
        topic_cols={"topic_delivery_count": "delivery", "topic_price_count": "price"},
        value_col="monetary",
    )
    assert list(prof["segment_id"]) == [1, 2, 3]
    assert prof["value_share"].sum() == pytest.approx(1.0)
    assert prof.loc[prof.segment_id == 2, "top_topics"].iloc[0][0] == "delivery"
    assert not {"churn_rate", "mean_churn_probability"} & set(prof.columns)
    named = name_segments(prof)
    by_id = named.set_index("segment_id")
    assert by_id.loc[1, "segment_name"].startswith("High-value")
    assert by_id.loc[2, "segment_name"] == "Mid-value, unhappy with delivery"
    assert by_id.loc[3, "segment_name"] == "Low-value, lapsing"
    assert named["segment_name"].is_unique
    # each persona states the segment's own size, orders, spend and recency, then what its customers talk about
    for sid, row in by_id.iterrows():
        facts = (
            f"{row['customers']:,} customers with {row['mean_frequency']:.1f} orders a year, spending about "
            f"{row['mean_monetary']:,.0f}; last order about {row['mean_recency_days']:.0f} days ago."
        )
        assert row["segment_persona"].startswith(facts), (sid, row["segment_persona"])
        talk = row["segment_persona"][len(facts) :]
        assert talk == (
            f" They mostly talk about {', '.join(row['top_topics'][:2])}." if row["top_topics"] else ""
        )
        assert "churn" not in row["segment_persona"] and "risk" not in row["segment_persona"]


def test_topic_columns_detection() -> None:
    cols = [
        "topic_delivery_count",
        "price_topic_share",
        "topic_quality",
        "topic_other_count",
        "sentiment",
        "n_reviews",
    ]
    assert topic_columns(cols) == {
        "topic_delivery_count": "delivery",
        "price_topic_share": "price",
        "topic_quality": "quality",
    }


def test_no_varying_activity_or_text_leaves_out_the_fused_copy_of_rfm() -> None:
    """A shop with orders only: 'fused' would be the RFM segmentation again, so it is not published."""
    rfm, activity, _ = _world()
    flat = activity.assign(**{c: 0 for c in activity.columns if c not in ("customer_id", "snapshot_date")})
    result = segment_customers(rfm, flat, None, k_min=2, k_max=4, seed=1)
    assert result.assignments["fused_segment_id"].isna().all()
    assert result.assignments["rfm_segment_id"].notna().all()
    assert set(result.profiles["segmentation"]) == {"rfm"}


def test_segmentation_is_reused_only_while_its_inputs_are_unchanged(tmp_path):
    import duckdb
    import pandas as pd

    from python_jobs.segments.cache import cached, input_fingerprint, segmentation_key

    calls = []

    def compute():
        calls.append(1)
        return pd.DataFrame({"customer_id": ["a", "b"], "rfm_segment_id": pd.array([1, 2], dtype="int32")})

    con = duckdb.connect()
    rfm = pd.DataFrame({"customer_id": ["a", "b"], "monetary": [10.0, 20.0]})
    marts = rfm.assign(inputs_fingerprint=["f1", "f1"])

    def key(frame: pd.DataFrame, k_min: int = 3) -> str:
        return segmentation_key({"rfm": input_fingerprint(con.from_df(frame))}, {"k_min": k_min})

    first = cached(tmp_path, key(rfm), compute)
    again = cached(tmp_path, key(rfm.iloc[::-1].reset_index(drop=True)), compute)
    pd.testing.assert_frame_equal(first, again)
    assert len(calls) == 1  # same rows in another order: same key, no refit
    assert key(rfm.assign(monetary=[10.0, 21.0])) != key(rfm)
    assert key(rfm, k_min=4) != key(rfm)
    # an input with inputs_fingerprint is known by those values alone: its rows are not read
    assert key(marts.assign(monetary=[10.0, 21.0])) == key(marts.iloc[::-1].reset_index(drop=True))
    assert key(marts.assign(inputs_fingerprint=["f1", "f2"])) != key(marts)


def _pandas_feature_matrix(frame: pd.DataFrame, blocks: FeatureBlocks) -> tuple[np.ndarray, list[str]]:
    """build_feature_matrix as it was written in pandas: the NumPy one must give these numbers bit for bit."""
    parts, names = [], []
    for cols in blocks.present(frame).values():
        values = frame[cols].apply(pd.to_numeric, errors="coerce").astype(float)
        for c in cols:
            if c in blocks.log_columns:
                values[c] = np.log1p(values[c].clip(lower=0))
        values = values.fillna(values.median()).fillna(0.0)
        std = values.std(ddof=0)
        keep = std > 1e-12
        if keep.any():
            z = (values.loc[:, keep] - values.loc[:, keep].mean()) / std[keep]
            parts.append(z.to_numpy() / np.sqrt(keep.sum()))
            names.extend(z.columns)
    return np.hstack(parts), names


def test_feature_matrix_equals_the_pandas_formulation() -> None:
    rng = np.random.default_rng(3)
    n = 5_000
    frame = pd.DataFrame(
        {
            # a log column with a few negative values
            "monetary": rng.lognormal(3, 1.5, n) * rng.choice([1, -1], n, p=[0.97, 0.03]),
            "frequency": pd.array(rng.integers(0, 40, n), dtype="Int64"),
            "share": np.where(rng.random(n) < 0.2, np.nan, rng.random(n)),
            "flag": rng.random(n) < 0.3,
            "constant": np.full(n, 7.0),
            "empty": np.full(n, np.nan),
            "text_number": pd.Series(rng.integers(0, 9, n).astype(str), dtype=object).where(
                rng.random(n) > 0.1, "x"
            ),
        }
    )
    frame.loc[::7, "frequency"] = pd.NA
    blocks = FeatureBlocks(
        {"rfm": ["monetary", "frequency"], "other": ["share", "flag", "constant", "empty", "text_number"]}
    )
    X, names = build_feature_matrix(frame, blocks)
    expected, expected_names = _pandas_feature_matrix(frame, blocks)
    assert names == expected_names == ["monetary", "frequency", "share", "flag", "text_number"]
    assert np.array_equal(X, expected)
    assert X.flags.c_contiguous  # rows contiguous, as np.hstack gave them and K-Means reads them
