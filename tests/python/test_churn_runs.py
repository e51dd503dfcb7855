"""The churn run as one registry node: content hash, reuse without fitting, the registry table, streamed
scoring, and the bootstrap on a bounded sample of the test snapshot."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from churn_fakes import FAST_CANDIDATES, HGB, demo_specs
from sklearn.metrics import roc_auc_score

from python_jobs.churn import (
    adapter,
    cache,
    contracts,
    demo_frame,
    evaluate,
    features,
    registry,
    run,
    run_table,
)
from python_jobs.warehouse import size_bytes

FAST = run.Settings(n_boot=40, candidates=FAST_CANDIDATES)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return demo_frame.make_frame(n_customers=600, n_snapshots=8, seed=5)


@pytest.fixture(scope="module")
def specs() -> list[features.FeatureSpec]:
    return demo_specs()


@pytest.fixture(scope="module")
def stored(frame, specs, tmp_path_factory) -> tuple[run.ChurnRun, Path, Path]:
    model_dir = tmp_path_factory.mktemp("runs")
    fitted, fitted_now, path = cache.fit_or_reuse(frame, specs, FAST, model_dir)
    assert fitted_now and path.exists()
    return fitted, path, model_dir


def _next_day_scores(frame: pd.DataFrame) -> pd.DataFrame:
    """The same labelled rows, with the as-of snapshot one day later and different score features."""
    moved = frame.copy()
    score = moved["split"] == "score"
    moved.loc[score, "snapshot_date"] = moved.loc[score, "snapshot_date"] + pd.Timedelta(days=1)
    moved.loc[score, "recency_days"] = moved.loc[score, "recency_days"] + 1
    return moved


def test_a_new_score_snapshot_alone_reuses_the_run(stored, frame, specs, caplog):
    fitted, path, model_dir = stored
    moved = _next_day_scores(frame)
    assert run.run_id_for(moved, specs, FAST) == run.run_id_for(frame, specs, FAST)
    labelled_only = frame[frame["split"] != "score"]
    assert run.run_id_for(labelled_only, specs, FAST)[0] == fitted.run_id
    with caplog.at_level("INFO", logger="python_jobs.churn.cache"):
        again, fitted_now, again_path = cache.fit_or_reuse(moved, specs, FAST, model_dir)
    assert not fitted_now and again_path == path and again.run_id == fitted.run_id
    assert f"reused run {fitted.run_id}" in caplog.text and "0 model fits" in caplog.text
    assert [p.name for p in (model_dir / "runs").glob("*.pkl")] == [path.name]


def test_fingerprint_ignores_last_bit_noise_but_not_a_real_change(frame):
    cols = list(frame.columns)
    noisy = frame.copy()
    noisy["monetary_365d"] = np.nextafter(
        noisy["monetary_365d"].to_numpy(), np.inf
    )  # a float sum in another order
    assert registry.data_fingerprint(noisy, cols) == registry.data_fingerprint(frame, cols)
    changed = frame.copy()
    changed.loc[changed.index[0], "monetary_365d"] += 0.01
    assert registry.data_fingerprint(changed, cols) != registry.data_fingerprint(frame, cols)
    # Order-independent: the same rows in another order give the same fingerprint.
    assert registry.data_fingerprint(frame.sample(frac=1, random_state=1), cols) == registry.data_fingerprint(
        frame, cols
    )


def test_the_registry_table_records_the_run_and_loads_it_back(stored):
    fitted, path, _ = stored
    table = run_table.runs_table(fitted, True, path)
    assert table.schema.equals(contracts.arrow_schema("churn_model_runs"))
    rows = table.to_pandas()
    assert set(rows["model_id"]) == {m.model_id for m in fitted.models.values()}
    assert rows["is_champion"].sum() == 1 and set(rows["run_status"]) == {"fitted"}
    assert (rows["n_train_rows"] == fitted.n_rows["train"]).all() and (rows["fit_cpu_seconds"] > 0).all()
    assert str(rows["eval_snapshot_date"].iloc[0]) == fitted.window["test_snapshot"]
    loaded = run_table.load_run(table)
    assert loaded.run_id == fitted.run_id
    pd.testing.assert_frame_equal(loaded.metrics, fitted.metrics)
    reused = run_table.runs_table(fitted, False, path).to_pandas()
    assert set(reused["run_status"]) == {"reused"}


def test_a_missing_artifact_says_how_to_rebuild(stored, tmp_path):
    fitted, _, _ = stored
    table = run_table.runs_table(fitted, True, tmp_path / "runs" / "gone.pkl")
    with pytest.raises(FileNotFoundError, match="dbt build --select churn_model_runs"):
        run_table.load_run(table)


def test_a_customers_score_does_not_depend_on_who_else_is_scored(specs, monkeypatch):
    # A tree champion (its reasons are occlusion effects of features chosen at fit time) and more score rows
    # than a batch: batches, batches scored in worker processes, and any subset (a Spark partition), give the
    # same rows as scoring all at once.
    big = demo_frame.make_frame(n_customers=4_500, n_snapshots=8, seed=8)
    fitted = run.fit(big, specs, run.Settings(n_boot=20, candidates=(HGB,)))
    assert fitted.champion_model.kind == "hgb"
    config = {"risk_medium_cut": "0.2"}
    whole = adapter.scores_table(fitted, big, config).to_pandas()
    assert whole["reason_1"].notna().sum() > 100
    with duckdb.connect() as con:
        con.register("training", big.sample(frac=1, random_state=2))  # the warehouse's order is arbitrary
        rel = con.sql("select * from training").filter("split = 'score'")
        streamed = adapter.scores_table(fitted, rel, config, batch_rows=2_048).to_pandas()
        subset = adapter.scores_table(fitted, rel.filter("hash(customer_id) % 7 = 3"), config).to_pandas()
        monkeypatch.setenv("CHURN_SCORE_PROCESSES", "2")
        monkeypatch.setattr(adapter, "MIN_ROWS_PER_SCORE_PROCESS", 1_000)
        pools, start_pool = [], adapter.holding_pool
        monkeypatch.setattr(adapter, "holding_pool", lambda obj, n: pools.append(n) or start_pool(obj, n))
        in_processes = adapter.scores_table(fitted, rel, config, batch_rows=500).to_pandas()
        assert pools == [2]
    pd.testing.assert_frame_equal(streamed, whole)
    pd.testing.assert_frame_equal(in_processes, whole)
    assert 0 < len(subset) < len(whole) and fitted.champion_model.reason_features is not None
    expected = whole[whole["customer_id"].isin(subset["customer_id"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(subset, expected)


def _scored_rows(monkeypatch) -> list[int]:
    """Rows run.score is asked to score, per call, from here on."""
    calls, real = [], run.score
    monkeypatch.setattr(
        run,
        "score",
        lambda fitted, rows, settings=None, **kw: (
            calls.append(len(rows)) or real(fitted, rows, settings, **kw)
        ),
    )
    return calls


def _by_customer(table) -> pd.DataFrame:
    return table.to_pandas().sort_values("customer_id").reset_index(drop=True)


def test_a_rebuild_scores_only_the_rows_whose_inputs_changed(stored, frame, monkeypatch):
    fitted = stored[0]
    last = adapter.scores_table(fitted, frame, {}).to_pandas()
    assert last["inputs_fingerprint"].notna().all() and last["inputs_fingerprint"].is_unique
    calls = _scored_rows(monkeypatch)
    again = adapter.scores_table(fitted, frame, {}, previous=last)
    assert calls == []  # nothing new: every row is the last build's
    pd.testing.assert_frame_equal(_by_customer(again), last.sort_values("customer_id").reset_index(drop=True))

    changed = frame.copy()
    one = changed.index[changed["split"] == "score"][3]
    changed.loc[one, "recency_days"] += 40  # one customer's features move
    out = adapter.scores_table(fitted, changed, {}, previous=last)
    assert calls == [1]
    pd.testing.assert_frame_equal(_by_customer(out), _by_customer(adapter.scores_table(fitted, changed, {})))

    calls.clear()  # new tier cuts (or a new run) change every row's fingerprint
    adapter.scores_table(fitted, frame, {"risk_high_cut": "0.9"}, previous=last)
    assert calls == [len(last)]


def test_bootstrap_on_a_sample_estimates_the_full_set_ci():
    rng = np.random.default_rng(0)
    n = 12_000
    y = rng.integers(0, 2, n)
    a = rng.normal(y * 1.0, 1)
    b = a + rng.normal(y * 0.15, 0.6)
    scores = {"a": a, "b": b}
    full = evaluate.bootstrap_auc_replicates(y, scores, 300, 1)
    same = evaluate.bootstrap_auc_replicates(y, scores, 300, 1, max_rows=n)
    np.testing.assert_array_equal(full["b"], same["b"])  # at or below the cap: exactly as before
    sampled = evaluate.bootstrap_auc_replicates(y, scores, 300, 1, max_rows=2_000)
    for k in ("b",):
        assert np.median(sampled[k]) == pytest.approx(roc_auc_score(y, scores[k]), abs=0.003)
        assert np.std(sampled[k]) == pytest.approx(np.std(full[k]), rel=0.25)  # sd of the n-row AUC
    d_full, d_sampled = full["b"] - full["a"], sampled["b"] - sampled["a"]
    assert np.std(d_sampled) == pytest.approx(np.std(d_full), rel=0.25)
    assert np.quantile(d_sampled, 0.025) == pytest.approx(np.quantile(d_full, 0.025), abs=0.004)


def test_unchanged_snapshot_inputs_reuse_the_last_run_without_reading_rows(stored, frame, specs, tmp_path):
    """churn_model_runs compares the labelled snapshots' inputs_fingerprints with the last build's: equal means
    the same run, found without reading a training row; a changed train snapshot, setting or model dir does not."""
    fitted, path, model_dir = stored
    con = duckdb.connect()

    def inputs(f: pd.DataFrame, settings: run.Settings = FAST) -> str | None:
        return adapter.labelled_inputs_fingerprint(con.from_df(f), specs, settings)

    marked = frame.assign(inputs_fingerprint="fp-" + frame["snapshot_date"].astype(str))
    key = inputs(marked)
    previous = con.from_arrow(run_table.runs_table(fitted, True, path, key))
    reused = adapter.last_run_if_unchanged(previous, key, model_dir)
    assert reused is not None and reused[0].run_id == fitted.run_id and reused[1] == path

    next_day = _next_day_scores(marked)
    next_day.loc[next_day["split"] == "score", "inputs_fingerprint"] = "fp-tomorrow"
    assert inputs(next_day) == key  # the as-of snapshot plays no part in the run

    late = marked.copy()
    late.loc[
        late["snapshot_date"] == late.loc[late["split"] == "train", "snapshot_date"].min(),
        "inputs_fingerprint",
    ] = "fp-corrected"
    assert inputs(late) != key
    assert inputs(marked, run.Settings(n_boot=41, candidates=FAST_CANDIDATES)) != key
    assert adapter.last_run_if_unchanged(previous, inputs(late), model_dir) is None
    assert adapter.last_run_if_unchanged(previous, key, tmp_path) is None  # not stored under this model dir
    assert inputs(frame) is None  # no fingerprints: the content hash decides


def test_training_rows_are_read_with_duckdbs_cache_held_down(stored, frame, specs, monkeypatch):
    """churn_model_runs lowers DuckDB's memory_limit (fit_duckdb_memory) before it reads the labelled rows, not
    only for the fit (read beside a full cache, they stacked on it: the 1M full build's peak was that read), and
    flushes what the read freed before the fit (else it stayed resident through the fit)."""
    fitted, path, model_dir = stored
    con = duckdb.connect(config={"memory_limit": "2GB"})
    steps = []

    def limit() -> str:
        return con.sql("select current_setting('memory_limit')").fetchall()[0][0]

    def read(relation, config):
        steps.append(("read", limit()))
        return frame

    def fit(labelled, specs_, settings, model_dir_):
        steps.append(("fit", limit()))
        return fitted, False, path

    lowered = adapter.memory_limit_lowered

    @contextmanager
    def recorded(*args):
        with lowered(*args) as give_back_freed:
            yield lambda: (steps.append(("flush", limit())), give_back_freed())

    monkeypatch.setattr(adapter.features, "specs_from_frame", lambda seed: specs)
    monkeypatch.setattr(adapter, "training_frame", read)
    monkeypatch.setattr(adapter.cache, "fit_or_reuse", fit)
    monkeypatch.setattr(adapter, "memory_limit_lowered", recorded)
    config = {"fit_duckdb_memory": "64MB", "duckdb_memory_limit": "2GB", "model_dir": str(model_dir)}
    adapter.fit_runs_table(con.from_df(frame), pd.DataFrame(), config, session=con)
    assert [step for step, _ in steps] == ["read", "flush", "fit"]
    assert all(size_bytes(seen) < 100e6 for _, seen in steps)
    assert size_bytes(limit()) > 1e9  # and given back after
