"""One fact, one place: the churn feature registry (seeds/churn_features.csv) drives the churn_training_set
select list (macros/churn_feature_columns.sql) and its contract (python_jobs.churn.feature_contract), so a new
feature is one seed row; shown by adding one to a temp copy of the project and building a tiny world."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import REPO_ROOT, dbt_env

from python_jobs.churn import feature_contract
from python_jobs.dbt_runner import run_dbt

ML_YAML = REPO_ROOT / "models" / "ml" / "_ml__models.yml"
SEED = REPO_ROOT / "seeds" / "churn_features.csv"
NEW_FEATURE = (
    "spend_per_order_90d,baseline,Spend per order in the last 90 days,"
    '"spent {value:,.0f} per order in the last 90 days",no order in the last 90 days,never,'
    "customer_order_features,double,"
    '"customer_order_features.amount_90d / nullif(customer_order_features.orders_90d, 0)"\n'
)


def test_contract_follows_the_seed() -> None:
    text = ML_YAML.read_text(encoding="utf-8")
    assert feature_contract.render(text, SEED) == text, (
        "churn_training_set contract is stale: run `python -m python_jobs.churn.feature_contract`"
    )


def _project_copy(dest: Path) -> Path:
    dest.mkdir()
    for name in ("dbt_project.yml", "profiles.yml", "packages.yml", "dependencies.yml"):
        if (REPO_ROOT / name).exists():
            shutil.copy(REPO_ROOT / name, dest / name)
    for folder in ("models", "macros", "seeds", "tests", "dbt_packages"):
        if (REPO_ROOT / folder).exists():
            shutil.copytree(
                REPO_ROOT / folder, dest / folder, ignore=shutil.ignore_patterns("python", "__pycache__")
            )
    return dest


@pytest.mark.e2e
def test_adding_a_feature_is_one_seed_row(tmp_path: Path) -> None:
    from python_jobs.synth import generate_world

    project = _project_copy(tmp_path / "project")
    with (project / "seeds" / "churn_features.csv").open("a", encoding="utf-8") as seed:
        seed.write(NEW_FEATURE)
    feature_contract.write(project)

    work = tmp_path / "work"
    generate_world(400, 7, work / "raw", progress=False)
    run_dbt(
        [
            "build",
            "--select",
            "+churn_model_metrics",
            "--exclude-resource-type",
            "test",
            "unit_test",
            "--vars",
            json.dumps({"churn_n_boot": 20}),
        ],
        project_dir=project,
        env=dbt_env(work),
    )

    with duckdb.connect(str(work / "churn.duckdb"), read_only=True) as con:
        expected = con.sql(
            "select f.amount_90d / nullif(f.orders_90d, 0) from marts.customer_order_features f "
            "join ml.churn_training_set t using (customer_id, snapshot_date)"
        ).fetchall()
        column = con.sql("select spend_per_order_90d from ml.churn_training_set").fetchall()
    assert sorted(column, key=str) == sorted(expected, key=str)
    assert any(value is not None for (value,) in column)
    records = [json.loads(p.read_text()) for p in (work / "models" / "registry").glob("*.json")]
    assert records and all("spend_per_order_90d" in r["features"] for r in records)
