"""Point-in-time embedding components: texts at/after T never count at T; the PCA sees training snapshots only."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from python_jobs.text import voice
from python_jobs.text.voice import (
    embedding_components,
    snapshot_fingerprints,
    training_snapshots,
    voice_pcs_from_relations,
)


@pytest.fixture
def world():
    rng = np.random.default_rng(1)
    n = 600
    cust = rng.integers(0, 60, n).astype(str)
    ts = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    emb = rng.normal(size=(n, 16)).astype(np.float32)
    snaps = pd.date_range("2024-02-01", periods=11, freq="MS")
    spine = pd.DataFrame({"snapshot_date": snaps, "horizon_end_date": snaps + pd.Timedelta(days=90)})
    spine["is_as_of"] = spine["snapshot_date"] == snaps.max()
    spine["horizon_observed"] = spine["horizon_end_date"] <= snaps.max()
    eval_at = spine.loc[spine["horizon_observed"] & ~spine["is_as_of"], "snapshot_date"].max()
    spine["split"] = np.select(
        [spine["is_as_of"], spine["snapshot_date"] == eval_at, spine["horizon_end_date"] <= eval_at],
        ["score", "test", "train"],
        None,
    )
    return cust, np.asarray(ts), emb, spine


def run(cust, ts, emb, spine):
    out = embedding_components(cust, ts, emb, spine, n_components=3)
    return out.sort_values(["customer_id", "snapshot_date"]).reset_index(drop=True)


def test_training_snapshots_match_churn_training_split(world):
    *_, spine = world
    train = pd.to_datetime(training_snapshots(spine))
    eval_at = spine.loc[spine["horizon_observed"], "snapshot_date"].max()
    assert len(train) and (train + pd.Timedelta(days=90) <= eval_at).all()


def test_counts_and_means_use_only_texts_before_t(world):
    cust, ts, emb, spine = world
    out = run(cust, ts, emb, spine)
    row = out.iloc[len(out) // 2]
    mask = (cust == row.customer_id) & (ts < np.datetime64(row.snapshot_date))
    assert row.embedded_texts == mask.sum()


def test_moving_a_text_after_t_leaves_features_at_t_unchanged(world):
    cust, ts, emb, spine = world
    base = run(cust, ts, emb, spine)
    last_train = pd.to_datetime(training_snapshots(spine)).max()
    t_eval = spine["snapshot_date"].iloc[-3]
    # a text written after the eval snapshot moves further into the future and changes its content
    late = np.nonzero(ts >= np.datetime64(t_eval))[0][0]
    ts2, emb2 = ts.copy(), emb.copy()
    ts2[late] = ts2[late] + np.timedelta64(200, "D")
    emb2[late] = emb2[late] * -5
    moved = run(cust, ts2, emb2, spine)
    at = base["snapshot_date"] <= t_eval
    pd.testing.assert_frame_equal(
        base[at].reset_index(drop=True), moved[moved["snapshot_date"] <= t_eval].reset_index(drop=True)
    )
    assert last_train < t_eval


def test_pca_is_fitted_on_training_snapshots_only(world):
    cust, ts, emb, spine = world
    base = run(cust, ts, emb, spine)
    train = pd.to_datetime(training_snapshots(spine))
    # texts after the last training snapshot change completely: training-period components must not move
    after = ts >= np.datetime64(train.max())
    emb2 = emb.copy()
    emb2[after] = np.random.default_rng(9).normal(size=(after.sum(), emb.shape[1])) * 10
    changed = run(cust, ts, emb2, spine)
    in_train = base["snapshot_date"].isin(train)
    pd.testing.assert_frame_equal(base[in_train], changed[in_train])


def test_empty_input_gives_empty_frame(world):
    *_, spine = world
    out = embedding_components(np.array([]), np.array([], dtype="datetime64[ns]"), np.zeros((0, 4)), spine)
    assert out.empty and "voice_pc1" in out.columns


def _keys(cust, ts, text_id):
    return pa.table({"review_id": text_id, "customer_id": cust, "created_at": pd.to_datetime(ts)})


def test_any_subset_of_snapshots_and_any_row_order_give_the_same_values(world):
    cust, ts, emb, spine = world
    text_id = np.array([f"r{i}" for i in range(len(cust))])
    full = embedding_components(cust, ts, emb, spine, n_components=3, text_id=text_id)
    late = spine["snapshot_date"].to_numpy()[-2:]
    shuffle = np.random.default_rng(3).permutation(len(cust))
    part = embedding_components(
        cust[shuffle],
        ts[shuffle],
        emb[shuffle],
        spine,
        n_components=3,
        text_id=text_id[shuffle],
        snapshots=late,
    )
    expected = full[full["snapshot_date"].isin(late)]
    key = ["snapshot_date", "customer_id"]
    pd.testing.assert_frame_equal(  # exact: a pair's mean sums its own texts in (customer, time, id) order
        expected.sort_values(key).reset_index(drop=True),
        part.sort_values(key).reset_index(drop=True),
        check_exact=True,
    )


def test_averaging_in_blocks_gives_the_same_values(world, monkeypatch):
    """Means are computed in blocks of about RANGE_VALUES values (memory): blocks of a few rows, a single
    range longer than a block included, give exactly the values of one block, basis fit included."""
    cust, ts, emb, spine = world
    text_id = np.array([f"r{i}" for i in range(len(cust))])
    whole = embedding_components(cust, ts, emb, spine, n_components=3, text_id=text_id)
    monkeypatch.setattr(voice, "RANGE_VALUES", 40)  # 2 embedding rows of 16, 13 projected rows of 3
    blocked = embedding_components(cust, ts, emb, spine, n_components=3, text_id=text_id)
    pd.testing.assert_frame_equal(whole, blocked, check_exact=True)


def test_fingerprints_change_exactly_where_the_rows_can(world):
    cust, ts, _, spine = world
    text_id = np.array([f"r{i}" for i in range(len(cust))])
    settings = {"n_components": 3, "seed": 42}
    base = snapshot_fingerprints(_keys(cust, ts, text_id), spine, settings)
    assert base.is_unique and len(base) == len(spine)
    # a text written between the last two snapshots (after every training snapshot): only the last one changes
    t_last = pd.Timestamp(spine["snapshot_date"].max())
    added = snapshot_fingerprints(
        _keys(
            np.append(cust, "new"),
            np.append(ts, np.datetime64(t_last - pd.Timedelta(days=3))),
            [*text_id, "x"],
        ),
        spine,
        settings,
    )
    assert list(base.index[base != added]) == [str(t_last.date())]
    # a text before the first training snapshot moves the basis: every snapshot changes
    early = np.append(ts, np.datetime64("2024-01-02"))
    moved = snapshot_fingerprints(_keys(np.append(cust, "new"), early, [*text_id, "x"]), spine, settings)
    assert (base != moved).all()
    assert (snapshot_fingerprints(_keys(cust, ts, text_id), spine, settings | {"seed": 1}) != base).all()


def test_a_build_with_every_fingerprint_built_reads_no_embedding(world):
    cust, ts, emb, spine = world
    with duckdb.connect() as con:
        con.register("texts", _keys(cust, ts, [f"r{i}" for i in range(len(cust))]))
        keys_only = con.sql("select * from texts")  # no embedding column: reading one would fail
        settings = {"voice_pc_components": 3}.get
        current = snapshot_fingerprints(keys_only.to_arrow_table(), spine, {"n_components": 3, "seed": 42})
        rows, fingerprints = voice_pcs_from_relations(keys_only, spine, settings, built=set(current))
    assert rows.num_rows == 0 and fingerprints == list(current)


def test_streamed_embeddings_give_the_in_memory_values(world, monkeypatch):
    """The adapter streams embeddings in batches (never the whole matrix) and matches rows by review id: with
    batches of 7 rows and a shuffled table, every value equals the in-memory computation exactly."""
    cust, ts, emb, spine = world
    text_id = np.array([f"r{i:04d}" for i in range(len(cust))])
    expected = embedding_components(cust, ts, emb, spine, n_components=3, text_id=text_id)
    monkeypatch.setattr(voice, "STREAM_ROWS", 7)
    shuffled = np.random.default_rng(3).permutation(len(cust))
    table = _keys(cust[shuffled], ts[shuffled], text_id[shuffled]).append_column(
        "embedding", pa.FixedSizeListArray.from_arrays(pa.array(emb[shuffled].ravel()), emb.shape[1])
    )
    with duckdb.connect() as con:
        con.register("texts", table)
        rows, _ = voice_pcs_from_relations(
            con.sql("select * from texts"), spine, {"voice_pc_components": 3}.get
        )
    got = rows.to_pandas().drop(columns="inputs_fingerprint")
    got["snapshot_date"] = pd.to_datetime(got["snapshot_date"])
    keys = ["customer_id", "snapshot_date"]
    pd.testing.assert_frame_equal(
        got.sort_values(keys).reset_index(drop=True),
        expected.sort_values(keys).reset_index(drop=True),
        check_dtype=False,
        check_exact=True,
    )


def test_a_nightly_build_reuses_the_basis_and_projects_only_new_texts(world, tmp_path, monkeypatch):
    """With var model_dir, the second build (one text added after every training snapshot) fits nothing, streams
    only the new text's embedding, and gives exactly the values of a build without the cache."""
    cust, ts, emb, spine = world
    text_id = np.array([f"r{i:04d}" for i in range(len(cust))])
    t_last = pd.Timestamp(spine["snapshot_date"].max())
    new_cust, new_ts, new_id = "c-new's", np.datetime64(t_last - pd.Timedelta(days=3)), "r-new's"

    def table(n_new: int) -> pa.Table:
        ids = np.append(text_id, [new_id] * n_new)
        times = np.append(ts, np.array([new_ts] * n_new, dtype=ts.dtype))
        keys = _keys(np.append(cust, [new_cust] * n_new), times, ids)
        vectors = np.vstack([emb, np.full((n_new, emb.shape[1]), 0.5, np.float32)])
        return keys.append_column(
            "embedding", pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), emb.shape[1])
        )

    def build(n_new: int, model_dir: str | None) -> pd.DataFrame:
        with duckdb.connect() as con:
            con.register("texts", table(n_new))
            get = {"voice_pc_components": 3, "model_dir": model_dir}.get
            rows, _ = voice_pcs_from_relations(con.sql("select * from texts"), spine, get)
        return rows.to_pandas().sort_values(["customer_id", "snapshot_date"]).reset_index(drop=True)

    build(0, str(tmp_path))  # last night: fits the basis, projects every text, stores both
    streamed: list[int] = []
    original = voice.StreamedEmbeddings.projected_rows
    monkeypatch.setattr(voice, "fit_basis", lambda *a, **k: pytest.fail("the basis was fitted again"))
    monkeypatch.setattr(
        voice.StreamedEmbeddings,
        "projected_rows",
        lambda self, pca, rows: streamed.append(len(rows)) or original(self, pca, rows),
    )
    tonight = build(1, str(tmp_path))
    assert streamed == [1]
    monkeypatch.undo()
    pd.testing.assert_frame_equal(tonight, build(1, None), check_exact=True)
    assert new_cust in set(tonight["customer_id"])
