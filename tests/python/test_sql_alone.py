"""The bench's SQL-alone stage (python_jobs/bench/sql_alone.py) on a copy of the shared end-to-end build: every
SQL model runs again, no Python model does, and the CPU is read from the process while they ran."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import dbt_env

from python_jobs.bench import sql_alone


def test_every_sql_model_runs_again_alone_and_its_cpu_is_measured(
    e2e_world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copyfile(e2e_world / "churn.duckdb", tmp_path / "churn.duckdb")
    shutil.copytree(e2e_world / "target", tmp_path / "target")
    for key, value in dbt_env(tmp_path, e2e_world / "raw").items():
        monkeypatch.setenv(key, value)
    names = sql_alone.sql_models(json.loads((tmp_path / "target" / "manifest.json").read_text()))
    assert {"customer_activity", "churn_training_set", "rpt_churn_risk"} <= set(names)
    assert not {"churn_scores", "review_tags"} & set(names)

    sql_alone.main(tmp_path / "out.json")

    got = json.loads((tmp_path / "out.json").read_text())
    assert got["models"] == len(names) and got["wall_s"] > 0 and got["cpu_s"] > 0
    assert 0 <= got["sys_s"] <= got["cpu_s"]
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    models = [r for r in results if r["unique_id"].startswith("model.")]
    assert sorted(r["unique_id"].split(".")[-1] for r in models) == names
    assert {r["status"] for r in results} == {"success"}
