"""The DuckDB profile: a new warehouse file in the format a BI tool can open; the block pool sized like the limit."""

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


@pytest.mark.parametrize("memory", ["1GB", None])
def test_the_block_pool_is_sized_like_the_memory_limit(tmp_path: Path, memory: str | None) -> None:
    """profiles.yml sizes DuckDB's block allocator pool with CHURN_DUCKDB_MEMORY, as it does memory_limit."""
    (tmp_path / "work").mkdir()
    env = dbt_env(tmp_path / "work") | ({"CHURN_DUCKDB_MEMORY": memory} if memory else {})
    query = "select current_setting('block_allocator_memory') as pool, current_setting('memory_limit') as lim"
    result = run_dbt(["show", "--inline", query], project_dir=PROJECT_DIR, env=env)
    pool, limit = result.results[0].agate_table.rows[0]
    assert pool == limit == ("953.6 MiB" if memory else "4.6 GiB")
