"""Churn modelling core on synthetic frames: leakage, determinism, reasons, evaluation, scoring."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import pytest
from churn_fakes import FAST_CANDIDATES, demo_specs
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from python_jobs.churn import (
    adapter,
    demo_frame,
    evaluate,
    features,
    guards,
    registry,
    run,
    scoring,
    templates,
)
from python_jobs.churn.reasons import linear_contributions, occlusion_contributions

# Small grid and bootstrap so unit tests stay fast.
FAST = run.Settings(n_boot=100, candidates=FAST_CANDIDATES)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return demo_frame.make_frame(n_customers=1000, n_snapshots=9, seed=3)


@pytest.fixture(scope="module")
def specs() -> list[features.FeatureSpec]:
    return demo_specs()


@pytest.fixture(scope="module")
def fitted(frame, specs) -> run.ChurnRun:
    return run.fit(frame, specs, FAST)


def test_enhanced_beats_baseline_and_peers_on_planted_signal(fitted):
    m = fitted.metrics.set_index(["feature_set", "model_kind"])
    best = {fs: fitted.selected[fs] for fs in ("baseline", "enhanced")}
    enhanced = m.loc[("enhanced", best["enhanced"])]
    baseline = m.loc[("baseline", best["baseline"])]
    assert enhanced["roc_auc"] > baseline["roc_auc"]
    assert enhanced["auc_diff_ci_low"] > 0  # CI-backed
    assert baseline["roc_auc"] > m.loc[("peer", "recency"), "roc_auc"]
    for col in ("roc_auc", "pr_auc", "brier", "log_loss", "precision", "recall", "f1", "top_decile_lift"):
        assert np.isfinite(enhanced[col]), col
    assert enhanced[["tp", "fp", "tn", "fn"]].sum() == enhanced["n_rows"]


def test_metrics_are_computed_on_the_test_snapshot_only(fitted, frame):
    test = frame[frame["split"] == "test"]
    assert set(fitted.metrics["n_rows"]) == {float(len(test))}
    assert set(fitted.metrics["eval_snapshot_date"]) == {str(test["snapshot_date"].max().date())}
    # Validation folds live strictly inside the training snapshots.
    assert (pd.to_datetime(fitted.validation["val_date"]) < test["snapshot_date"].max()).all()


def test_shuffled_labels_give_chance_auc(frame, specs):
    shuffled = frame.copy()
    labelled = shuffled["split"] != "score"
    rng = np.random.default_rng(0)
    shuffled.loc[labelled, "churned"] = rng.permutation(shuffled.loc[labelled, "churned"].to_numpy())
    res = run.fit(shuffled, specs, FAST)
    models = res.metrics[res.metrics["feature_set"] != "peer"]
    assert models["roc_auc"].between(0.45, 0.55).all(), models["roc_auc"].tolist()


def _orders(n_customers: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = n_customers * 8
    return pd.DataFrame(
        {
            "customer_id": np.char.add("c", rng.integers(0, n_customers, n).astype(str)),
            "ordered_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 540, n), unit="D"),
        }
    )


def _order_features(orders: pd.DataFrame, snapshot: pd.Timestamp, leaky: bool) -> pd.DataFrame:
    """Features at `snapshot` the way churn_training_set builds them: aggregates and the latest event used."""
    before = orders[orders["ordered_at"] < snapshot]
    feats = before.groupby("customer_id").agg(
        frequency_365d=("ordered_at", "size"), orders_max_event_at=("ordered_at", "max")
    )
    if leaky:  # planted on purpose: counts orders inside the label window [T, T + 90 days)
        horizon = orders[
            (orders["ordered_at"] >= snapshot) & (orders["ordered_at"] < snapshot + pd.Timedelta(days=90))
        ]
        planted = horizon.groupby("customer_id").agg(
            orders_next_90d=("ordered_at", "size"), horizon_max_event_at=("ordered_at", "max")
        )
        feats = feats.join(planted, how="left")
        feats["orders_max_event_at"] = feats[["orders_max_event_at", "horizon_max_event_at"]].max(axis=1)
        feats = feats.drop(columns="horizon_max_event_at")
    return feats.reset_index().assign(snapshot_date=snapshot)


def test_guard_catches_a_feature_computed_from_the_horizon_window(frame, specs):
    orders = _orders()
    snapshot = pd.Timestamp("2024-07-01")
    guards.check_point_in_time(_order_features(orders, snapshot, leaky=False))
    with pytest.raises(guards.LeakageError, match="orders_max_event_at"):
        guards.check_point_in_time(_order_features(orders, snapshot, leaky=True))
    # And training refuses to start on such a frame.
    leaky = frame.copy()
    leaky.loc[leaky.index[:5], "feature_max_event_at"] = leaky.loc[
        leaky.index[:5], "snapshot_date"
    ] + pd.Timedelta(days=10)
    with pytest.raises(guards.LeakageError):
        run.fit(leaky, specs, FAST)
    with pytest.raises(guards.LeakageError, match="cannot prove"):
        run.fit(frame.drop(columns="feature_max_event_at"), specs, FAST)


def test_guard_reads_datetimes_dates_and_strings_alike():
    """The warehouse hands over datetime64 columns (used as they are), other callers dates or strings."""
    at = pd.Series(pd.to_datetime(["2024-06-30 23:59", "2024-07-01 00:00"]))
    for snapshot in (pd.Series(pd.to_datetime(["2024-07-01"] * 2)), pd.Series([date(2024, 7, 1)] * 2)):
        for events in (at, at.astype(str)):
            frame = pd.DataFrame(
                {"snapshot_date": snapshot, "orders_max_event_at": events, "customer_id": "c"}
            )
            guards.check_point_in_time(frame.iloc[:1])
            with pytest.raises(guards.LeakageError, match="1 rows"):
                guards.check_point_in_time(frame)


def test_score_rows_use_no_label(fitted, frame, specs):
    rows = frame[frame["split"] == "score"].copy()
    a = run.score(fitted, rows)
    rows["churned"] = np.random.default_rng(1).random(len(rows)) < 0.5
    b = run.score(fitted, rows)
    pd.testing.assert_frame_equal(a, b)
    labelled_score = frame.copy()
    labelled_score.loc[labelled_score["split"] == "score", "churned"] = True
    with pytest.raises(guards.LeakageError, match="score rows carry a label"):
        run.fit(labelled_score, specs, FAST)


def test_same_data_and_seed_give_same_ids_scores_metrics(fitted, frame, specs, tmp_path):
    again = run.get_or_fit(frame, specs, FAST, tmp_path)
    assert again.run_id == fitted.run_id
    assert [m.model_id for m in again.models.values()] == [m.model_id for m in fitted.models.values()]
    pd.testing.assert_frame_equal(again.metrics, fitted.metrics)
    rows = frame[frame["split"] == "score"]
    pd.testing.assert_frame_equal(run.score(again, rows), run.score(fitted, rows))
    # Cached: a second call loads the artifact, and the registry lists every trained model.
    assert run.get_or_fit(frame, specs, FAST, tmp_path).run_id == fitted.run_id
    listed = registry.list_models(tmp_path)
    assert set(listed["model_id"]) == {m.model_id for m in fitted.models.values()}
    assert listed["dropped_features"].map(lambda d: d.get("not_in_frame")).eq("missing").all()
    other = run.fit(frame, specs, replace(FAST, seed=7))
    assert other.champion_model.model_id != fitted.champion_model.model_id


def test_feature_sets_fitted_side_by_side_equal_one_after_the_other(fitted, frame, specs, monkeypatch):
    from concurrent.futures import Executor, Future

    from python_jobs.churn import fitting

    class InTurn(Executor):  # every task and feature set one after the other, in this thread
        def __init__(self, workers: int) -> None:
            pass

        def map(self, fn, *iterables, **_):
            return [fn(*args) for args in zip(*iterables, strict=True)]

        def submit(self, fn, *args, **kwargs):
            done = Future()
            done.set_result(fn(*args, **kwargs))
            return done

    monkeypatch.setattr(fitting, "ThreadPoolExecutor", InTurn)
    in_turn = run.fit(frame, specs, FAST)
    pd.testing.assert_frame_equal(in_turn.metrics, fitted.metrics)
    pd.testing.assert_frame_equal(in_turn.validation, fitted.validation)
    rows = frame[frame["split"] == "score"]
    for key, model in fitted.models.items():
        assert np.array_equal(model.logit(rows), in_turn.models[key].logit(rows)), key
    assert {"selection_baseline_cpu_s", "final_fits_enhanced_wall_s", "fits_wall_s"} <= set(fitted.timings)


def test_to_matrix_coerces_every_column_type_alike_over_blocks(monkeypatch):
    monkeypatch.setattr(features, "MATRIX_BLOCK_ROWS", 7)  # several blocks, the last one short
    n = 50
    frame = pd.DataFrame(
        {
            "ints": np.arange(n),
            "floats": np.r_[np.linspace(-1, 1, n - 3), np.nan, np.inf, -0.0],
            "bools": np.arange(n) % 3 == 0,
            "nullable_ints": pd.array([1, None] * (n // 2), dtype="Int64"),
            "nullable_bools": pd.array([True, None] * (n // 2), dtype="boolean"),
            "texts": ["1.5", None] * (n // 2),
            "small": np.arange(n, dtype=np.uint8),
        }
    )

    def through_pandas(values: pd.Series) -> np.ndarray:  # the one coercion every type could take
        out = (
            pd.to_numeric(values, errors="coerce")
            .astype("Float64")
            .to_numpy(dtype="float64", na_value=np.nan)
        )
        return np.where(np.isinf(out), np.nan, out)

    expected = np.column_stack([through_pandas(frame[c]) for c in frame.columns])
    matrix = features.to_matrix(frame, list(frame.columns))
    assert matrix.flags.c_contiguous and matrix.dtype == np.float64
    assert np.array_equal(matrix, expected, equal_nan=True)
    assert np.array_equal(np.signbit(matrix), np.signbit(expected))  # -0.0 stays -0.0


def test_linear_contributions_plus_intercept_reproduce_the_logit(fitted, frame):
    model = fitted.models[("enhanced", "logreg")]
    X = features.to_matrix(frame[frame["split"] == "score"], model.columns)
    contrib, intercept = linear_contributions(model.pipeline, X)
    np.testing.assert_allclose(
        contrib.sum(axis=1) + intercept, model.pipeline.decision_function(X), rtol=1e-9
    )


def test_tree_reasons_come_from_the_tree_model(fitted, frame):
    model = fitted.models[("enhanced", "hgb")]
    X = features.to_matrix(frame[frame["split"] == "score"].head(300), model.columns)
    with threadpool_limits(1):
        contrib = occlusion_contributions(model.pipeline, X, model.reference, batch_rows=128)
    # every feature's contribution is the change of the model's full prediction (the tree-by-tree shortcut
    # recomputes only the trees that split on it)
    for j in range(X.shape[1]):
        occluded = X.copy()
        occluded[:, j] = model.reference[j]
        expected = model.pipeline.decision_function(X) - model.pipeline.decision_function(occluded)
        np.testing.assert_allclose(contrib[:, j], expected, rtol=1e-9, atol=1e-12, err_msg=model.columns[j])
    assert np.abs(contrib[:, model.columns.index("mean_sentiment")]).max() > 0


def test_binned_occlusion_equals_full_predictions_on_missing_infinite_and_unseen_values():
    # occlusion walks the trees on binned values; a value's bin must send it down the same branch as the raw value
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline

    rng = np.random.default_rng(0)
    X = rng.normal(size=(3_000, 4))
    X[rng.random(X.shape) < 0.1] = np.nan
    y = (np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 1]) ** 2 + rng.normal(size=3_000) > 1).astype(int)
    pipeline = Pipeline([("model", HistGradientBoostingClassifier(max_iter=40, random_state=0))]).fit(X, y)
    test = rng.normal(scale=3, size=(500, 4))  # beyond the training range too
    test[::7, 1] = np.nan
    test[::11, 0], test[::13, 2] = np.inf, -np.inf
    test[::5, 3] = pipeline[-1]._bin_mapper.bin_thresholds_[3][10]  # exactly on a threshold
    reference = np.nanmedian(X, axis=0)
    test[::3, 2] = reference[2]  # already the reference value (its trees are not walked again)
    test[1::3, 0] = np.nextafter(reference[0], np.inf)  # in the reference's bin, not equal to it
    contrib = occlusion_contributions(pipeline, test, reference)
    assert (contrib[::3, 2] == 0).all() and (contrib[1::3, 0] == 0).all()
    for j in range(test.shape[1]):
        occluded = test.copy()
        occluded[:, j] = reference[j]
        expected = pipeline.decision_function(test) - pipeline.decision_function(occluded)
        np.testing.assert_allclose(contrib[:, j], expected, rtol=1e-9, atol=1e-12)


def test_one_tree_walk_gives_the_models_own_probabilities_and_reasons(fitted, frame):
    # scoring walks the champion's trees once for both: its log-odds and probabilities are those of the model's
    # own predict (bit for bit), its contributions those of the separate occlusion pass
    from python_jobs.churn.pipelines import probability_from_logit
    from python_jobs.churn.reasons import TreeWalk, contributions

    model = fitted.models[("enhanced", "hgb")]
    X = features.to_matrix(frame[frame["split"] == "score"].head(400), model.columns)
    X[::9, 0], X[::11, 1] = np.nan, np.inf
    cols = model.reason_features
    walk = TreeWalk.start(model.pipeline, X, cols)
    assert np.array_equal(walk.logit, model.pipeline.decision_function(X))
    assert np.array_equal(
        probability_from_logit(model.calibrated, walk.logit), model.calibrated.predict_proba(X)[:, 1]
    )
    rows = np.arange(0, len(X), 3)
    expected = contributions(model.pipeline, "hgb", X[rows], model.reference, candidates=cols)
    np.testing.assert_allclose(walk.contributions(rows, model.reference), expected, rtol=1e-12, atol=1e-12)
    assert TreeWalk.start(model.pipeline, X, None) is None  # a run without fixed reason features
    logreg = fitted.models[("enhanced", "logreg")]
    assert TreeWalk.start(logreg.pipeline, features.to_matrix(frame.head(5), logreg.columns), cols) is None


def test_scores_carry_tiers_reasons_and_revenue(fitted, frame):
    rows = frame[frame["split"] == "score"]
    s = run.score(fitted, rows)
    assert len(s) == len(rows) and s["customer_id"].is_unique
    assert s["churn_probability"].between(0, 1).all()
    p, tier = s["churn_probability"], s["risk_tier"]
    assert set(tier) == {"high", "medium", "low"}
    assert (p[tier == "high"] >= 0.5).all() and (p[tier == "low"] < 0.25).all()
    assert p[tier == "medium"].between(0.25, 0.5, inclusive="left").all()
    assert s.groupby("risk_tier")["risk_tier_rule"].nunique().eq(1).all()
    assert s.loc[tier == "high", "risk_tier_rule"].iloc[0] == "churn probability >= 0.50"
    np.testing.assert_allclose(s["revenue_at_risk"], s["churn_probability"] * s["spend_rate"])
    assert s.loc[tier != "low", "reason_1"].notna().mean() > 0.9
    assert s.loc[tier == "low", ["reason_1", "reason_1_feature", "reason_3"]].isna().all().all()
    assert s["model_id"].eq(fitted.champion_model.model_id).all()


def test_scores_do_not_depend_on_the_order_rows_arrive_in(fitted, frame):
    rows = frame[frame["split"] == "score"]
    in_order = rows.sort_values(["customer_id", "snapshot_date"])
    shuffled = rows.sample(frac=1.0, random_state=3)
    pd.testing.assert_frame_equal(run.score(fitted, shuffled), run.score(fitted, in_order))
    # sorted rows are taken as they are; ties on the id are ordered by the date
    tied = pd.DataFrame({"customer_id": ["a", "a", "b"], "snapshot_date": [2, 1, 1], "x": [0, 1, 2]})
    assert features.in_key_order(tied, ["customer_id", "snapshot_date"])["x"].tolist() == [1, 0, 2]
    assert features.in_key_order(tied.iloc[[1, 0, 2]], ["customer_id", "snapshot_date"]).index.tolist() == [
        0,
        1,
        2,
    ]


def test_missing_text_degrades_to_behaviour_features(specs):
    no_text = demo_frame.make_frame(n_customers=600, n_snapshots=8, seed=5, with_text=False)
    res = run.fit(no_text, specs, FAST)
    assert res.selections["enhanced"].columns == res.selections["baseline"].columns
    assert res.selections["enhanced"].dropped["mean_sentiment"] == "all_null"
    assert "enhanced" in res.notes
    # One published row per model kind, not a duplicate "enhanced" copy of each baseline row.
    assert set(res.metrics["feature_set"]) == {"baseline", "peer"}
    assert res.champion[0] == "baseline"
    table = adapter.metrics_table(res).to_pandas()
    assert table["run_note"].str.contains("no usable text").all()
    assert set(res.curves["feature_set"]) == {"baseline", "peer"}


def test_metrics_say_when_the_test_snapshot_cannot_support_them(fitted):
    m = adapter.metrics_table(fitted).to_pandas()
    assert m["is_evaluation_sufficient"].all() and m["evaluation_note"].isna().all()
    assert (m["n_positive"] + m["n_negative"] == m["n_rows"]).all()
    assert (m["roc_auc_ci_low"] <= m["roc_auc"]).all() and (m["roc_auc"] <= m["roc_auc_ci_high"]).all()
    strict = adapter.metrics_table(fitted, {"eval_min_negatives": 10**6, "eval_max_auc_ci_width": 0.001})
    flagged = strict.to_pandas()
    assert not flagged["is_evaluation_sufficient"].any()
    note = flagged["evaluation_note"].iloc[0]
    assert "non-churners on the test snapshot (minimum 1000000)" in note and "CI is" in note


def test_peer_comparison_is_judged_on_the_paired_ci(fitted):
    m = fitted.metrics.set_index("model_id")
    best = m["best_peer_model_id"].iloc[0]
    assert m.loc[best, "feature_set"] == "peer"
    assert m.loc[best, "roc_auc"] == m.loc[m["feature_set"] == "peer", "roc_auc"].max()
    assert m.loc[best, "auc_diff_vs_best_peer"] == 0
    low, high = m["auc_diff_vs_best_peer_ci_low"], m["auc_diff_vs_best_peer_ci_high"]
    assert ((low <= m["auc_diff_vs_best_peer"] + 1e-12) & (m["auc_diff_vs_best_peer"] <= high + 1e-12)).all()


def test_tiers_are_probability_bands_and_never_call_a_likely_churner_low():
    p = np.array([0.99, 0.85, 0.5, 0.4999, 0.25, 0.2499, 0.01])
    assert scoring.risk_tiers(p).tolist() == ["high", "high", "high", "medium", "medium", "low", "low"]
    assert scoring.risk_tiers(p, high_cut=0.9, medium_cut=0.5).tolist()[:4] == [
        "high",
        "medium",
        "medium",
        "low",
    ]
    rules = scoring.tier_rules()
    assert rules == {
        "high": "churn probability >= 0.50",
        "medium": "churn probability 0.25 to 0.50",
        "low": "churn probability < 0.25",
    }
    with pytest.raises(ValueError, match="above 0.5 low risk"):
        scoring.risk_tiers(p, high_cut=0.9, medium_cut=0.6)  # p = 0.55 would be 'low'
    with pytest.raises(ValueError, match="must satisfy"):
        scoring.tier_rules(high_cut=0.3, medium_cut=0.4)


def test_weighted_bootstrap_auc_matches_sklearn_with_ties():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    score = np.round(rng.normal(y * 0.5, 1), 1)  # many ties
    w = np.ones((1, len(y)))
    assert evaluate._auc_replicates(y, score, w)[0] == pytest.approx(roc_auc_score(y, score))
    res = evaluate.bootstrap_auc_diff(y, score, score, n_boot=40)
    assert res["auc_diff"] == 0 and res["auc_diff_ci_low"] == 0 == res["auc_diff_ci_high"]


def test_curves_cover_all_charts(fitted):
    kinds = fitted.curves.groupby("model_id")["curve"].unique().map(set)
    for (fs, _), m in fitted.models.items():
        assert kinds[m.model_id] == {"roc", "pr", "lift", "calibration"}, fs
    assert kinds["peer_recency"] == {"roc", "pr", "lift"}


def test_tier_settings_do_not_change_the_run(fitted, frame, specs):
    cut = replace(FAST, risk_high_cut=0.9, risk_medium_cut=0.4, n_threads=2)
    assert run.run_id_for(frame, specs, cut) == run.run_id_for(frame, specs, FAST)
    s = run.score(fitted, frame[frame["split"] == "score"], cut)
    assert (s.loc[s["risk_tier"] == "high", "churn_probability"] >= 0.9).all()
    assert (s.loc[s["risk_tier"] == "low", "churn_probability"] < 0.4).all()


def test_probabilities_split_over_threads_and_blocks_are_the_same_numbers(fitted, frame, monkeypatch):
    from python_jobs.churn import pipelines

    monkeypatch.setattr(pipelines, "PREDICT_BLOCK_ROWS", 7)  # many blocks, the last one short
    for model in fitted.models.values():
        X = features.to_matrix(frame[frame["split"] == "score"], model.columns)
        assert len(X) > 7 * 3 and len(X) % 7
        whole = model.calibrated.predict_proba(X)[:, 1]
        for workers in (1, 3):
            split = pipelines.churn_probability(model.calibrated, X, workers=workers, min_rows_per_worker=1)
            assert np.array_equal(whole, split), (model.kind, workers)
        logit = np.asarray(model.pipeline.decision_function(X), dtype="float64")
        assert np.array_equal(logit, pipelines.raw_logit(model.pipeline, X)), model.kind
    assert pipelines.churn_probability(model.calibrated, X[:0]).shape == (0,)


def test_tree_contributions_are_occlusion_on_the_strongest_candidates(fitted, frame):
    from python_jobs.churn.reasons import contributions

    model = fitted.models[("enhanced", "hgb")]
    X = features.to_matrix(frame[frame["split"] == "score"].head(200), model.columns)
    with threadpool_limits(1):
        full = occlusion_contributions(model.pipeline, X, model.reference)
        top2 = contributions(model.pipeline, "hgb", X, model.reference, max_candidates=2)
    used = np.flatnonzero(np.abs(top2).sum(axis=0) > 0)
    assert len(used) <= 2
    np.testing.assert_allclose(top2[:, used], full[:, used])


def test_reason_candidates_are_the_strongest_features_that_can_be_reasons(fitted, frame):
    # a feature that is never a reason (reason_if 'never') must not take one of the occlusion passes
    from python_jobs.churn.reasons import candidate_features

    model = fitted.models[("enhanced", "hgb")]
    X = features.to_matrix(frame[frame["split"] == "score"].head(300), model.columns)
    with threadpool_limits(1):
        strength = np.abs(occlusion_contributions(model.pipeline, X, model.reference)).mean(axis=0)
        strongest = np.argsort(-strength, kind="stable")[:2]
        allowed = np.ones(X.shape[1], dtype=bool)
        allowed[strongest] = False
        chosen = candidate_features(
            model.pipeline, X, model.reference, 3, sample_rows=len(X), allowed=allowed
        )
    expected = np.flatnonzero(allowed)[np.argsort(-strength[allowed], kind="stable")[:3]]
    assert np.array_equal(chosen, np.sort(expected)) and not set(chosen) & set(strongest)
    few = np.zeros(X.shape[1], dtype=bool)
    few[[1, 4]] = True
    assert np.array_equal(candidate_features(model.pipeline, X, model.reference, 3, allowed=few), [1, 4])


def test_reasons_are_ranked_positive_and_distinct():
    from python_jobs.churn.reasons import top_reasons

    specs = {
        s.name: s
        for s in features.specs_from_frame(
            pd.DataFrame(
                {
                    "feature_name": ["a", "b", "c", "d"],
                    "feature_set": "baseline",
                    "description": ["A", "B", "C", "D"],
                    "reason_template": ["a={value:.0f}", "b={value:.0f}", "same", "d={value:.0f}"],
                }
            )
        )
    }
    specs["b"] = replace(specs["b"], reason_template="same")
    contrib = np.array([[0.1, 0.5, 0.4, -0.2], [-1.0, -1.0, -1.0, 0.3]])
    X = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]])
    out = top_reasons(contrib, X, ["a", "b", "c", "d"], specs)
    assert out.loc[0, ["reason_1", "reason_2", "reason_3"]].tolist() == ["same", "a=1", None]
    assert out.loc[0, ["reason_1_feature", "reason_2_feature"]].tolist() == ["b", "a"]
    assert out.loc[1, ["reason_1", "reason_2"]].tolist() == ["d=8", None]


def test_the_scoring_model_is_the_calibrated_one_and_calibrated_out_of_time(fitted, frame):
    """Calibration and threshold belong to the model that scores, learned on rows it was not fitted on."""
    from python_jobs.churn import selection
    from python_jobs.churn.pipelines import make_pipeline

    train = run.split_rows(frame.sort_values(run.KEYS, kind="stable").reset_index(drop=True))["train"]
    y = train[run.LABEL].astype(int).to_numpy()
    folds = selection.time_folds(train["snapshot_date"], train["horizon_end_date"], y, train["customer_id"])
    fit_idx, cal_idx = selection.calibration_split(train["snapshot_date"], y, folds)
    assert len(cal_idx) and not set(fit_idx) & set(cal_idx)
    snaps = pd.to_datetime(train["snapshot_date"])
    assert snaps.iloc[fit_idx].max() < snaps.iloc[cal_idx].min()  # calibrated out-of-time
    for m in fitted.models.values():
        assert m.calibrated.estimator.estimator is m.pipeline  # frozen: the very pipeline that scores
        assert m.calibration["slope"] > 0
        X = features.to_matrix(train, m.columns)
        refit = make_pipeline(m.candidate, FAST.seed).fit(X[fit_idx], y[fit_idx])
        np.testing.assert_allclose(refit.decision_function(X), m.pipeline.decision_function(X))
    test = frame[frame["split"] == "test"]
    champion = fitted.champion_model
    cal = champion.calibration
    expected = 1 / (1 + np.exp(-(cal["slope"] * champion.logit(test) + cal["intercept"])))
    np.testing.assert_allclose(champion.predict_proba(test), expected, rtol=1e-9)


def _spec(name: str, template: str, reason_if: str = "", missing_text: str = "") -> features.FeatureSpec:
    return features.FeatureSpec(name, "baseline", name, template, missing_text, reason_if)


REGISTRY = {s.name: s for s in features.load_specs()}


def test_a_context_value_is_sayable_only_when_finite_and_on_the_allowed_side():
    values = np.array([0.5, 0.9, 1.2, np.nan, np.inf, -np.inf])
    np.testing.assert_array_equal(
        _spec("t", "{value}", "value < 0.9").sayable_values(values),
        [0.5, np.nan, np.nan, np.nan, np.nan, np.nan],
    )
    for always in ("", "never"):
        np.testing.assert_array_equal(
            _spec("t", "{value}", always).sayable_values(values), [0.5, 0.9, 1.2, np.nan, np.nan, np.nan]
        )


def test_registry_reasons_are_true_and_phrased_against_the_customers_own_history():
    """The shipped templates: no "up 0%" when nothing changed, no "every 0 days", no exposure as a reason."""
    trend = REGISTRY["order_trend_ratio"]
    assert trend.reason(1.0, {"orders_90d": 0, "orders_prior_90d": 0}) is None  # 0 orders in both quarters
    assert trend.reason(1.5, {"orders_90d": 2, "orders_prior_90d": 1}) is None  # orders went up
    assert trend.reason(0.5, {"orders_90d": 1, "orders_prior_90d": 3}) == (
        "1 order in the last 90 days vs 3 in the 90 days before"
    )
    assert REGISTRY["mean_interorder_days"].reason(0.0) is None  # two orders on one day
    assert REGISTRY["mean_interorder_days"].reason(26.4) == "usually orders every 26 days"
    recency = REGISTRY["recency_days"]
    assert (
        recency.reason(95, {"mean_interorder_days": 30})
        == "95 days since the last order (usually every 30 days)"
    )
    assert recency.reason(95) == "95 days since the last order"
    assert REGISTRY["days_overdue"].reason(-12) is None and REGISTRY["overdue_ratio"].reason(1.1) is None
    assert REGISTRY["churn_intent_flag"].reason(0) is None
    assert REGISTRY["churn_intent_flag"].reason(1) == "said they would stop buying or switch"
    assert REGISTRY["topic_delivery_count"].reason(0) is None
    assert REGISTRY["mean_sentiment"].reason(0.4) is None
    for exposure in (
        "days_since_last_intervention",
        "campaigns_targeted_before",
        "interventions_received_before",
    ):
        assert not REGISTRY[exposure].can_be_reason and REGISTRY[exposure].reason(10) is None
        assert REGISTRY[exposure].reason(None) is None


def test_registry_rules_parse_and_bad_rules_fail_loudly():
    assert {s.name for s in REGISTRY.values() if not s.can_be_reason} >= {
        "voice_pc1",
        "campaigns_targeted_before",
    }
    bad = pd.DataFrame(
        {
            "feature_name": ["a"],
            "feature_set": ["baseline"],
            "description": ["A"],
            "reason_template": ["{value}"],
            "reason_if": ["value ~ 3"],
        }
    )
    with pytest.raises(ValueError, match="reason_if must be"):
        features.specs_from_frame(bad)


def test_reasons_skip_unsayable_drivers_and_cite_only_sayable_context():
    from python_jobs.churn.reasons import top_reasons

    specs = {
        "gap": _spec("gap", "usually every {value:.0f} days", reason_if="value >= 1"),
        "recency": _spec("recency", "{value:.0f} days (usually every {gap:.0f})||{value:.0f} days"),
        "exposure": _spec("exposure", "{value:.0f} days since the last retention action", reason_if="never"),
        "trend": _spec("trend", "orders {direction} {change_pct:.0f}%", reason_if="value <= 0.9"),
    }
    cols = ["gap", "recency", "exposure", "trend"]
    X = np.array([[0.0, 40.0, 10.0, 1.0], [20.0, 90.0, 5.0, 0.5]])
    contrib = np.array([[0.9, 0.5, 2.0, 0.3], [0.1, 0.5, 2.0, 0.3]])
    out = top_reasons(contrib, X, cols, specs, context=pd.DataFrame(X, columns=cols))
    # row 0: exposure is never a reason, a gap of 0 days is never said (nor cited), "down 0%" is not true
    assert out.loc[0, ["reason_1", "reason_2", "reason_3"]].tolist() == ["40 days", None, None]
    assert out.loc[0, "reason_1_feature"] == "recency"
    assert out.loc[1, ["reason_1", "reason_2", "reason_3"]].tolist() == [
        "90 days (usually every 20)",
        "orders down 50%",
        "usually every 20 days",
    ]


def _reason_one_row(spec, value, context):
    """The row-at-a-time formulation FeatureSpec.reasons replaced (session 34): the reference it must equal."""
    rule = features.parse_reason_if(spec.reason_if)
    if rule is not None and rule[0] == "never":
        return None
    if not np.isfinite(value):
        return spec.missing_text or None
    if rule is not None and not features.REASON_OPS[rule[0]](value, rule[1]):
        return None
    fields = {"value": value, "pct": 100 * value, "change_pct": abs(value - 1) * 100}
    fields["direction"] = "down" if value < 1 else "up"
    for key, v in context.items():
        if np.isfinite(v):
            fields.setdefault(key, v)
    for template in spec.reason_template.split("||"):
        template = template.strip()
        if template and templates.template_fields(template) <= fields.keys():
            try:
                return templates.singular(template.format(**fields))
            except (ValueError, KeyError, IndexError):
                continue
    return f"{spec.description}: {value:.3g}"


def test_reason_texts_for_many_rows_equal_one_format_per_row() -> None:
    spec = _spec(
        "recency_days",
        "{value:.0f} days since the last order, usually every {usual:.0f}"
        "||{value:d} whole days||{pct:.1f}% {direction}, {change_pct:.0f} off, {value!r:>6}||{}",
        missing_text="no order yet",
    )
    rng = np.random.default_rng(0)
    values = rng.choice([0.0, -0.0, 1.0, 3.0, 7.5, 1e300, np.nan, -np.inf], size=2_000)
    usual = rng.choice([10.0, np.nan, 12.25, -0.0], size=2_000)
    texts = spec.reasons(values, {"usual": usual})
    expected = [
        _reason_one_row(spec, v, {"usual": u}) for v, u in zip(values.tolist(), usual.tolist(), strict=True)
    ]
    assert texts.tolist() == expected
    assert "-0 days since the last order, usually every 10" in expected  # -0.0 is not merged with 0.0
    assert "1 day since the last order, usually every -0" in expected  # singular, per text
    assert "no order yet" in expected and "100.0% up, 0 off,    1.0" in expected
    never_fits = features.FeatureSpec("odd", "baseline", "A {braced} thing", "{value:d}")
    assert never_fits.reasons(np.array([2.5, np.nan])).tolist() == ["A {braced} thing: 2.5", None]
    for values_for, rule in (([0.5, 0.9, 1.2], "value < 0.9"), ([0.5, 2.0], "never")):
        rule_spec = _spec("trend", "{value:.1f}", reason_if=rule)
        expected = [_reason_one_row(rule_spec, v, {}) for v in values_for]
        assert rule_spec.reasons(np.array(values_for)).tolist() == expected


def test_nested_format_specs_are_refused_when_the_registry_is_read() -> None:
    bad = pd.DataFrame(
        {
            "feature_name": ["a"],
            "feature_set": ["baseline"],
            "description": ["A"],
            "reason_template": ["{value:.0f} days||{value:{width}}"],
        }
    )
    with pytest.raises(ValueError, match="nested format specs"):
        features.specs_from_frame(bad)
