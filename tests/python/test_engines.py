"""The same world built on DuckDB and on PostgreSQL gives the same tables (`make test-engines`).

A throwaway PostgreSQL server (Debian's postgresql package) gets the raw world through `churn load-raw`'s loader,
then `churn build`'s engine path: dbt waves with the Python models run as jobs. Every table of the intermediate,
marts, enrichment, ml and reports schemas is compared with the DuckDB build: same columns, same rows, floats
within python_jobs.engines.compare's tolerance. Skipped unless CHURN_TEST_ENGINES=1 (it takes minutes).
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from conftest import REPO_ROOT, dbt_env

from python_jobs.engines.compare import ATOL, RTOL, table_differences

pytestmark = pytest.mark.engines

CUSTOMERS = 3_000
SCHEMAS = ("intermediate", "marts", "enrichment", "ml", "reports")
# Columns that say how or when a row was built, not what it holds; they differ by engine or build on purpose.
BOOKKEEPING = {
    "inputs_fingerprint",  # engine-specific row hashes (macros/row_hash.sql): only compared within an engine
    "behaviour_fingerprint",
    "labels_fingerprint",
    "voice_fingerprint",
    "enriched_at",  # when the text was enriched
    "artifact_path",  # each build's own model_dir
    "built_at",  # when a model run was fitted, and how long it took
    "fit_wall_seconds",
    "fit_cpu_seconds",
    "fit_timings",
}
NOT_COMPARED = {"enrichment_runs"}  # a log of builds, one row per enrichment step run


@pytest.fixture(scope="module")
def postgres_and_duckdb(tmp_path_factory: pytest.TempPathFactory):
    if os.environ.get("CHURN_TEST_ENGINES") != "1":
        pytest.skip("engine tests run with `make test-engines` (CHURN_TEST_ENGINES=1)")
    from python_jobs.engines.postgres_server import PostgresUnavailable, server_bin_dir, throwaway_postgres

    try:
        server_bin_dir()
    except PostgresUnavailable as e:
        pytest.skip(str(e))
    from python_jobs.dbt_runner import run_dbt
    from python_jobs.engines.load_raw import load_raw
    from python_jobs.engines.orchestrate import build_with_steps, parsed_manifest
    from python_jobs.engines.warehouse_io import PostgresWarehouse, postgres_uri
    from python_jobs.synth import generate_world

    root = tmp_path_factory.mktemp("engines")
    raw = root / "raw"
    generate_world(CUSTOMERS, 5, raw, progress=False)
    run_dbt(["build"], project_dir=REPO_ROOT, env=dbt_env(root / "duckdb", raw))
    with throwaway_postgres() as server:
        env = dbt_env(root / "postgres", raw) | server.env() | {"CHURN_TARGET": "postgres"}
        warehouse = PostgresWarehouse(postgres_uri(env))
        load_raw(raw, warehouse)
        build_with_steps(warehouse, parsed_manifest(None, env), env=env)
        yield warehouse, root / "duckdb" / "churn.duckdb"
        warehouse.close()


def _tables(db: Path) -> list[tuple[str, str]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "select table_schema, table_name from information_schema.tables"
            f" where table_schema in {SCHEMAS} order by 1, 2"
        ).fetchall()


def test_postgres_builds_the_same_tables_as_duckdb(postgres_and_duckdb) -> None:
    warehouse, db = postgres_and_duckdb
    tables = [(s, t) for s, t in _tables(db) if t not in NOT_COMPARED]
    assert len(tables) > 40
    problems = {}
    with duckdb.connect(str(db), read_only=True) as con:
        for schema, name in tables:
            if not warehouse.exists(schema, name):
                problems[f"{schema}.{name}"] = ["missing on postgres"]
                continue
            left = con.sql(f'select * from "{schema}"."{name}"').to_arrow_table()
            found = table_differences(left, warehouse.read(schema, name), ignore=BOOKKEEPING)
            if found:
                problems[f"{schema}.{name}"] = found
    print(f"compared {len(tables)} tables (floats: rtol {RTOL}, atol {ATOL}; ignoring {sorted(BOOKKEEPING)})")
    assert not problems, "\n".join(f"{t}: {'; '.join(p)[:400]}" for t, p in problems.items())
