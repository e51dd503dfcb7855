"""The DuckDB profile's storage setting: a new warehouse file in the format a BI tool can open."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import dbt_env

from python_jobs.dbt_runner import run_dbt

PROJECT_DIR = Path(__file__).resolve().parents[2]


def _storage_version(db: Path) -> str:
    with duckdb.connect(str(db)) as con:
        tags = con.execute(
            "select tags from duckdb_databases() where database_name = ?", [db.stem]
        ).fetchall()
    return tags[0][0]["storage_version"]


@pytest.mark.parametrize("asked", ["v1.5.0", None])
def test_a_new_warehouse_is_written_in_the_storage_format_asked_for(
    tmp_path: Path, asked: str | None
) -> None:
    (tmp_path / "work").mkdir()
    env = dbt_env(tmp_path / "work") | ({"CHURN_DUCKDB_STORAGE": asked} if asked else {})
    run_dbt(["run-operation", "churn_connect"], project_dir=PROJECT_DIR, env=env)
    # by default, the format this DuckDB gives any new file
    expected = f"{asked}+" if asked else _storage_version(tmp_path / "plain.duckdb")
    assert _storage_version(tmp_path / "work" / "churn.duckdb") == expected
