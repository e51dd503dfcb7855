"""Churn models end to end on a tiny generated world: dbt builds the training set, trains once, scores,
evaluates on the test split only, and a rebuild from scratch reproduces model ids, scores and metrics."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import dbt_env

from python_jobs.churn import registry
from python_jobs.dbt_runner import run_dbt

pytestmark = pytest.mark.e2e

PROJECT_DIR = Path(__file__).resolve().parents[2]
N_CUSTOMERS = 1_200
ML_MODELS = [
    "churn_model_runs",
    "churn_scores",
    "churn_model_metrics",
    "churn_model_curves",
    "rpt_model_comparison",
    "customer_segments",
]


def _env(root: Path, model_dir: Path) -> dict[str, str]:
    return dbt_env(root, CHURN_MODEL_DIR=str(model_dir))


def _tables(root: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(root / "churn.duckdb"), read_only=True) as con:
        return {
            "training": con.sql("select * from ml.churn_training_set").df(),
            "scores": con.sql("select * from ml.churn_scores order by customer_id").df(),
            "metrics": con.sql("select * from ml.churn_model_metrics order by model_id").df(),
            "comparison": con.sql("select * from reports.rpt_model_comparison order by display_order").df(),
            "runs": con.sql("select * from ml.churn_model_runs order by model_id").df(),
        }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, pd.DataFrame]]:
    from python_jobs.synth import generate_world

    root = tmp_path_factory.mktemp("churn_e2e")
    generate_world(N_CUSTOMERS, 5, root / "raw", progress=False)
    # build = run + every test on these models (contracts, point-in-time guard, test-split-only metrics).
    run_dbt(
        [
            "build",
            "--select",
            "+rpt_model_comparison",
            "+churn_scores",
            "+customer_segments",
            "--indirect-selection",
            "cautious",
        ],
        env=_env(root, root / "models"),
        project_dir=PROJECT_DIR,
    )
    return root, _tables(root)


def test_enhanced_metrics_exist_and_use_the_test_split_only(world) -> None:
    _, t = world
    test_rows = t["training"][t["training"]["split"] == "test"]
    m = t["metrics"].set_index(["feature_set", "model_kind"])
    enhanced = t["metrics"][(t["metrics"]["feature_set"] == "enhanced") & t["metrics"]["is_selected"]]
    assert len(enhanced) == 1 and enhanced["roc_auc"].notna().all()
    assert (t["metrics"]["n_rows"] == len(test_rows)).all()
    assert (t["metrics"]["n_positive"] == int(test_rows["churned"].sum())).all()
    assert (pd.to_datetime(t["metrics"]["eval_snapshot_date"]) == test_rows["snapshot_date"].max()).all()
    assert (pd.to_datetime(t["metrics"]["train_end_date"]) < test_rows["snapshot_date"].max()).all()
    assert {"recency", "rfm_score"} <= set(m.loc["peer"].index)


def test_scores_cover_the_as_of_customers_without_labels(world) -> None:
    _, t = world
    score_rows = t["training"][t["training"]["split"] == "score"]
    assert score_rows["churned"].isna().all()
    assert set(t["scores"]["customer_id"]) == set(score_rows["customer_id"])
    assert t["scores"]["model_id"].nunique() == 1
    champion = t["metrics"].loc[t["metrics"]["is_champion"], "model_id"]
    assert t["scores"]["model_id"].iloc[0] == champion.item()


def test_one_training_run_is_registered(world) -> None:
    root, t = world
    listed = registry.list_models(root / "models")
    models = set(t["metrics"].loc[t["metrics"]["feature_set"] != "peer", "model_id"])
    assert models == set(listed["model_id"]) == set(t["runs"]["model_id"])
    assert listed["run_id"].nunique() == 1 == t["metrics"]["run_id"].nunique()
    (pkl,) = (root / "models" / "runs").glob("*.pkl")  # churn_model_runs fitted it; the others loaded it
    assert set(t["runs"]["artifact_path"]) == {str(pkl)} and set(t["runs"]["run_status"]) == {"fitted"}
    assert set(t["runs"]["run_id"]) == set(t["metrics"]["run_id"]) == set(t["scores"]["run_id"])
    champion = t["metrics"].loc[t["metrics"]["is_champion"], "model_id"]
    assert t["runs"].loc[t["runs"]["is_champion"], "model_id"].tolist() == champion.tolist()


def test_a_rebuild_with_no_new_data_reuses_the_run(world) -> None:
    root, first = world
    before = sorted(p.name for p in (root / "models").rglob("*") if p.is_file())
    run_dbt(["run", "--select", *ML_MODELS], env=_env(root, root / "models"), project_dir=PROJECT_DIR)
    again = _tables(root)
    assert set(again["runs"]["run_status"]) == {"reused"}  # 0 fits
    log = (root / "logs" / "dbt.log").read_text()
    assert f"reused run {again['runs']['run_id'].iloc[0]}" in log
    assert "0 training rows read" in log  # the labelled snapshots' inputs_fingerprints were unchanged
    assert "customer_segments: inputs unchanged" in log  # no K-Means fit, no input row read
    assert sorted(p.name for p in (root / "models").rglob("*") if p.is_file()) == before
    for name in ("scores", "metrics", "comparison"):
        pd.testing.assert_frame_equal(first[name], again[name])


def test_rebuild_from_scratch_reproduces_ids_scores_and_metrics(world) -> None:
    root, first = world
    run_dbt(["run", "--select", *ML_MODELS], env=_env(root, root / "models_again"), project_dir=PROJECT_DIR)
    again = _tables(root)
    for name in ("scores", "metrics", "comparison"):
        pd.testing.assert_frame_equal(first[name], again[name], check_exact=False, rtol=1e-9)
    assert set(again["runs"]["run_status"]) == {"fitted"}  # a fresh model dir: fitted again, same run id
    assert set(again["runs"]["run_id"]) == set(first["runs"]["run_id"])
