"""Unit tests of the synthetic world's building blocks (texts, dirt, campaign randomisation, ids)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from python_jobs.synth import campaigns as C
from python_jobs.synth import params as P
from python_jobs.synth import texts
from python_jobs.synth.dirty import LONG_TEXT_CHARS, make_dirty
from python_jobs.synth.writer import ids


def _compose(kind: str, m: int = 4_000, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    t1 = rng.integers(0, len(P.TOPICS), m)
    t2 = np.where(rng.random(m) < 0.3, (t1 + rng.integers(1, len(P.TOPICS), m)) % len(P.TOPICS), -1)
    return texts.compose(
        kind, rng, rng.choice(3, m, p=[0.7, 0.25, 0.05]), rng.uniform(-1, 1, m), t1, t2, rng.random(m) < 0.1
    )


def test_every_phrase_list_is_filled_for_every_language_topic_and_polarity() -> None:
    lx = texts.lexicon()
    assert (lx.topic.count > 0).all() and len(lx.topic.count) == 3 * len(P.TOPICS) * 3
    assert (lx.subject.count > 0).all() and (lx.title.count > 0).all()
    assert not any("{i}" in s for s in lx.topic.phrases)


def test_review_truth_is_consistent_with_text_and_stars() -> None:
    out = _compose("review")
    label, senti, rating = out["truth_label"], out["truth_sentiment"], out["rating"]
    assert set(rating) <= {1, 2, 3, 4, 5}
    assert ((senti < -0.2) == (label == "negative")).all()
    agree = ((label == "positive") & (rating >= 4)) | ((label == "negative") & (rating <= 2))
    assert agree[label != "neutral"].mean() > 0.75
    disagree = ((label == "positive") & (rating <= 2)) | ((label == "negative") & (rating >= 4))
    assert 0.02 < disagree.mean() < 0.15
    zh = out["language"] == "zh"
    assert zh.any() and not any(" " in b[:4] for b in out["body"][zh])
    mixed = np.array(["|" in t for t in out["truth_topics"]])
    contrast = (
        "But",
        "However",
        "On the other hand",
        "Unfortunately",
        "但是",
        "可是",
        "不过",
        "Mas",
        "Porém",
    )
    assert all(any(c in b for c in contrast) for b in out["body"][mixed & ~zh][:200])


def test_churn_intent_texts_carry_a_churn_phrase_and_lean_negative() -> None:
    out = _compose("review")
    intent = out["truth_churn_intent"]
    phrases = set(texts.lexicon().churn.phrases)
    carried = [any(p in b for p in phrases) for b in out["body"][intent]]
    assert np.mean(carried) > 0.9  # the rest carry a typo inside the phrase
    assert (out["truth_sentiment"][intent] < 0).mean() > 0.7


def test_tickets_have_subjects_and_some_pii_and_injections_stay_negative() -> None:
    out = _compose("ticket", m=20_000, seed=3)
    assert all(out["subject"])
    assert 0.02 < np.mean(["@" in b for b in out["body"]]) < 0.1
    inj = np.array([("ignore" in b.lower() or "忽略" in b or "Ignore" in b) for b in out["body"]])
    assert inj.any() and (out["truth_label"][inj] == "negative").all()


def test_hash_randomisation_is_balanced_and_stable() -> None:
    num = np.arange(1, 200_001)
    u = C.hash_uniform(num, salt=12345)
    assert abs((u < 0.5).mean() - 0.5) < 0.01 and abs((u < 0.8).mean() - 0.8) < 0.01
    assert np.array_equal(u, C.hash_uniform(num, salt=12345))
    assert not np.array_equal(u < 0.5, C.hash_uniform(num, salt=99) < 0.5)


def test_campaign_schedule_fits_the_world_and_uses_playbook_actions() -> None:
    camps = C.schedule(42, 0, 730, P.WorldParams())
    assert 4 <= len(camps) <= 6
    assert all(c.action in P.ACTIONS and 365 <= c.step * 7 <= 730 - 90 for c in camps)
    assert C.schedule(42, 0, 300, P.WorldParams()) == []


@pytest.mark.parametrize("share", [0.01, 0.02])
def test_make_dirty_plants_about_the_requested_share(share: float) -> None:
    n = 50_000
    rng = np.random.default_rng(0)
    tbl = pa.table(
        {
            "review_id": ids("V", np.arange(n)),
            "customer_id": ids("C", np.arange(n) % 1000),
            "order_id": ids("O", np.arange(n)),
            "created_at": pa.array(np.full(n, 1_700_000_000_000_000), pa.timestamp("us")),
            "rating": pa.array(np.full(n, 4), pa.int32()),
            "title": pa.array(["t"] * n),
            "body": pa.array(["some review text"] * n),
            "language": pa.array(["en"] * n),
        }
    )
    out = make_dirty("reviews", tbl, rng, share=share)
    assert n * (1 + share / 10) < out.num_rows < n * (1 + share / 2)
    body = out.column("body").to_pylist()
    assert any(b == "" for b in body) and any(b and len(b) > LONG_TEXT_CHARS - 1 for b in body)
    assert out.column("customer_id").null_count > 0
    changed = (
        out.num_rows
        - n
        + sum(b != "some review text" for b in body[:n])
        + out.column("customer_id").null_count
    )
    assert changed / n < 3 * share


def test_a_failed_run_leaves_the_previous_world_in_place(tmp_path, monkeypatch) -> None:
    from python_jobs.synth import generate as G

    G.generate_world(300, seed=1, out_dir=tmp_path, days=200, progress=False)
    before = (tmp_path / "orders.parquet").read_bytes()
    real, calls = G.simulate_block, []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("boom")
        return real(*args, **kwargs)

    monkeypatch.setattr(G, "simulate_block", flaky)
    monkeypatch.setattr(G, "CELL", 300)
    with pytest.raises(RuntimeError):
        G.generate_world(600, seed=2, out_dir=tmp_path, days=200, chunk_size=300, progress=False)
    assert (tmp_path / "orders.parquet").read_bytes() == before
    assert not list(tmp_path.glob(".*.tmp"))


def test_stratified_assignment_hits_the_share_in_every_stratum() -> None:
    rng = np.random.default_rng(1)
    num = np.arange(1, 10_001)
    stratum = C.strata(60, rng.integers(1, 15, 10_000), 60 - rng.integers(5, 27, 10_000))
    for share in (0.5, 0.8):
        treated = C.assign_arms(num, stratum, salt=7, share=share)
        for s in np.unique(stratum):
            m = stratum == s
            assert abs(treated[m].mean() - share) <= 1 / m.sum() + 1e-9
        assert np.array_equal(treated, C.assign_arms(num, stratum, salt=7, share=share))


def test_calibration_rfm_score_mirrors_customer_rfm_sql() -> None:
    """The calibration helper's RFM quintile sum equals customer_rfm.sql's percent_rank formula, ties included."""
    import duckdb
    import pandas as pd

    from python_jobs.synth.calibration import rfm_score

    rng = np.random.default_rng(4)
    n = 600
    df = pd.DataFrame(
        {
            "snapshot_date": pd.to_datetime(rng.choice(["2025-01-01", "2025-02-01"], n)),
            "recency_days": rng.integers(0, 40, n),  # many ties
            "frequency": rng.integers(1, 6, n),
            "monetary": np.round(rng.gamma(2.0, 50.0, n), 0),
        }
    )
    sql = duckdb.sql(
        """
        select least(5, 1 + floor(5 * percent_rank() over (partition by snapshot_date order by recency_days desc)))
             + least(5, 1 + floor(5 * percent_rank() over (partition by snapshot_date order by frequency)))
             + least(5, 1 + floor(5 * percent_rank() over (partition by snapshot_date order by monetary))) as s,
               rowid_ as i
        from (select *, row_number() over () - 1 as rowid_ from df) order by i
        """
    ).df()["s"]
    assert rfm_score(df).to_numpy().tolist() == sql.to_numpy().tolist()
    assert rfm_score(df).nunique() > 5


def test_calibration_statistics_on_a_small_world(tmp_path) -> None:
    from python_jobs.synth.calibration import world_difficulty
    from python_jobs.synth.generate import generate_world

    generate_world(2_000, seed=9, out_dir=tmp_path, progress=False)
    s = world_difficulty(tmp_path, ceiling=True)
    assert s["n_test"] > 500 and 0.2 < s["churn_rate"] < 0.7
    assert 0.6 < s["peer_rfm_score_auc"] < 0.95 and 0.5 < s["peer_recency_auc"] < 0.95
    assert 0.1 < s["one_time_buyer_share"] < 0.6 and 5 < s["median_gap_days"] < 90
    assert s["ceiling_gain_ci_low"] <= s["ceiling_gain"] <= s["ceiling_gain_ci_high"]
