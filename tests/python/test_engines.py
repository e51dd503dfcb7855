"""The same world built on DuckDB, PostgreSQL and Spark gives the same tables (`make test-engines`).

A throwaway PostgreSQL server (Debian's postgresql package) and a local Spark session (pyspark, Java) each get
the raw world through `churn load-raw`'s loader, then `churn build`'s engine path: dbt waves with the Python
models run as jobs. Every table of the intermediate,
marts, enrichment, ml and reports schemas is compared with the DuckDB build: same columns, same rows, floats
within python_jobs.engines.compare's tolerance. Skipped unless CHURN_TEST_ENGINES names the engines
(`make test-engines`; it takes minutes).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa
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
NOT_COMPARED = {
    "enrichment_runs",
    "churn_snapshot_builds",
    "churn_staging_builds",
}  # logs of builds: enrichment steps, snapshots tested, key groups restaged


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(raw folder, DuckDB warehouse) of one world, built once for every engine compared with it."""
    if not engines_under_test():
        pytest.skip("engine tests run with `make test-engines` (CHURN_TEST_ENGINES=postgres,spark)")
    from python_jobs.dbt_runner import run_dbt
    from python_jobs.synth import generate_world

    root = tmp_path_factory.mktemp("engines")
    generate_world(CUSTOMERS, 5, root / "raw", progress=False)
    run_dbt(["build"], project_dir=REPO_ROOT, env=dbt_env(root / "duckdb", root / "raw"))
    return root / "raw", root / "duckdb" / "churn.duckdb"


def engines_under_test() -> set[str]:
    """CHURN_TEST_ENGINES: a comma list of engines to build and compare (make test-engines ENGINES=...)."""
    return {e.strip() for e in os.environ.get("CHURN_TEST_ENGINES", "").split(",") if e.strip()}


@contextmanager
def _postgres(work: Path, raw: Path):
    from python_jobs.engines.postgres_server import PostgresUnavailable, server_bin_dir, throwaway_postgres
    from python_jobs.engines.warehouse_io import PostgresWarehouse, postgres_uri

    try:
        server_bin_dir()
    except PostgresUnavailable as e:
        pytest.skip(str(e))
    with throwaway_postgres() as server:
        env = dbt_env(work, raw) | server.env() | {"CHURN_TARGET": "postgres"}
        warehouse = PostgresWarehouse(postgres_uri(env))
        yield env, warehouse
        warehouse.close()


@contextmanager
def _spark(work: Path, raw: Path):
    if importlib.util.find_spec("pyspark") is None or shutil.which("java") is None:
        pytest.skip(
            "Spark needs pyspark (pip install -e '.[spark]') and a Java runtime (openjdk-17-jre-headless)"
        )
    from python_jobs.engines.commands import warehouse_for

    env = dbt_env(work, raw) | {"CHURN_TARGET": "spark", "CHURN_SPARK_DIR": str(work / "spark")}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CHURN_SPARK_ROWS_PER_TASK", "1000")  # several tasks per row-wise step, even here
        yield env, warehouse_for("spark", env)


@pytest.fixture(scope="module", params=["postgres", "spark"])
def engine_build(request: pytest.FixtureRequest, world: tuple[Path, Path]):
    """(engine, its warehouse, the DuckDB file): the same raw world loaded and built on the engine."""
    from python_jobs.engines.load_raw import load_raw
    from python_jobs.engines.orchestrate import build_with_steps, parsed_manifest

    if request.param not in engines_under_test():
        pytest.skip(f"{request.param} not in CHURN_TEST_ENGINES")
    raw, db = world
    opened = {"postgres": _postgres, "spark": _spark}[request.param](db.parent.parent / request.param, raw)
    with opened as (env, warehouse):
        load_raw(raw, warehouse)
        build_with_steps(warehouse, parsed_manifest(None, env), env=env)
        yield request.param, warehouse, db, env


def _tables(db: Path) -> list[tuple[str, str]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "select table_schema, table_name from information_schema.tables"
            f" where table_schema in {SCHEMAS} order by 1, 2"
        ).fetchall()


def test_engine_builds_the_same_tables_as_duckdb(engine_build) -> None:
    engine, warehouse, db, _ = engine_build
    tables = [(s, t) for s, t in _tables(db) if t not in NOT_COMPARED]
    assert len(tables) > 40
    problems = {}
    with duckdb.connect(str(db), read_only=True) as con:
        for schema, name in tables:
            if not warehouse.exists(schema, name):
                problems[f"{schema}.{name}"] = [f"missing on {engine}"]
                continue
            left = con.sql(f'select * from "{schema}"."{name}"').to_arrow_table()
            found = table_differences(left, warehouse.read(schema, name), ignore=BOOKKEEPING)
            if found:
                problems[f"{schema}.{name}"] = found
    print(
        f"{engine}: compared {len(tables)} tables (floats: rtol {RTOL}, atol {ATOL}; ignoring {sorted(BOOKKEEPING)})"
    )
    assert not problems, "\n".join(f"{t}: {'; '.join(p)[:400]}" for t, p in problems.items())


def _execute(warehouse, sql: str) -> None:
    if hasattr(warehouse, "spark"):
        warehouse.spark.sql(sql)
        return
    with warehouse.conn.cursor() as cur:
        cur.execute(sql)
    warehouse.conn.commit()


def test_a_failing_model_leaves_its_previous_table(engine_build) -> None:
    """dbt-spark drops a Parquet table before rebuilding it (macros/spark_table_swap.sql builds beside it)."""
    from python_jobs.dbt_runner import DbtError, run_dbt

    engine, warehouse, _, env = engine_build
    before = warehouse.read("marts", "fct_interventions")
    _execute(warehouse, "drop view intermediate.int_interventions")  # its only parent
    try:
        with pytest.raises(DbtError, match="fct_interventions"):
            run_dbt(["run", "--select", "fct_interventions"], env=env)
        assert warehouse.exists("marts", "fct_interventions"), f"{engine} dropped the table of a failed model"
        assert table_differences(before, warehouse.read("marts", "fct_interventions")) == []
    finally:
        run_dbt(["run", "--select", "int_interventions", "fct_interventions"], env=env)
    assert table_differences(before, warehouse.read("marts", "fct_interventions")) == []


def test_incremental_staging_restages_what_changed(engine_build) -> None:
    """PostgreSQL stages incrementally (macros/staging_incremental.sql): rows lost from a base table and a stale row
    that raw does not have are found by the row-hash diff and mended on the next run, and fct_orders recomputes
    the orders whose fingerprint changed (macros/order_facts_incremental.sql). (Spark rebuilds both tables.)"""
    from python_jobs.dbt_runner import run_dbt

    engine, warehouse, db, env = engine_build
    if engine != "postgres":
        pytest.skip("Spark rebuilds base staging tables")
    table = "base_synthetic__orders"
    _execute(
        warehouse, f"delete from staging.{table} where row_key in (select min(row_key) from staging.{table})"
    )
    _execute(warehouse, f"insert into staging.{table} select * from staging.{table} limit 1")
    run_dbt(["run", "--select", table, "fct_orders"], env=env)
    row_hashes = {"raw_row_hash"}  # engine-specific (macros/row_hash.sql)
    for schema, name in (("staging", table), ("marts", "fct_orders")):
        with duckdb.connect(str(db), read_only=True) as con:
            expected = con.sql(f"select * from {schema}.{name}").to_arrow_table()
        assert (
            table_differences(expected, warehouse.read(schema, name), ignore=BOOKKEEPING | row_hashes) == []
        )


def test_engine_report_equals_the_duckdb_report(engine_build, tmp_path: Path) -> None:
    """`churn report` on PostgreSQL or Spark: the same page as the DuckDB build's (report/engine_tables.py)."""
    from python_jobs.report.commands import render_report

    engine, warehouse, db, _ = engine_build
    html = render_report(out=tmp_path / f"{engine}.html", engine=warehouse).read_text()
    assert "not in this warehouse" not in html
    on_duckdb = render_report(db=db, out=tmp_path / "duckdb.html").read_text()
    # data-v: a cell's exact value for sorting, which float sums in another order change in the last bit
    assert re.sub(r'data-v="[^"]*"', "", html) == re.sub(r'data-v="[^"]*"', "", on_duckdb)


TAG_MODEL = """
from python_jobs.text.runs import RunLog
from python_jobs.text.tally import Tally


def model(dbt, session):
    source = dbt.ref("texts")
    if dbt.is_incremental:  # only rows whose text changed, as the enrichment steps do
        source = source.filter(f"text_id || text not in (select text_id || text from {dbt.this})")
    out = source.project("text_id, text, upper(text) as tag, length(text) as n")
    n = out.aggregate("count(*)").fetchall()[0][0]
    source_rows = dbt.ref("texts").aggregate("count(*)").fetchall()[0][0]
    RunLog(session, dbt.this).finish(Tally(total=n, tagged=n, attempted=n), "toy", source_rows)
    return out
"""


def test_spark_runs_a_row_wise_step_in_tasks_as_the_driver_would(tmp_path: Path) -> None:
    """Buckets of 2 rows: the Spark tasks' table equals run_step's, first build and incremental rebuild (a text
    edited, one deleted upstream, one new), and enrichment_runs gets one summed row per build."""
    if "spark" not in engines_under_test():
        pytest.skip("spark not in CHURN_TEST_ENGINES")
    from pyspark.sql import SparkSession

    from python_jobs.engines.spark_steps import run_in_partitions
    from python_jobs.engines.steps import Step, run_step
    from python_jobs.engines.warehouse_io import (
        MemoryWarehouse,
        SparkWarehouse,
        spark_workers_use_this_python,
    )

    spark_workers_use_this_python()
    builder = SparkSession.builder.master("local[2]").config("spark.sql.session.timeZone", "UTC")
    builder.config("spark.sql.warehouse.dir", str(tmp_path / "spark")).getOrCreate()  # or the build's session
    spark_wh, memory = SparkWarehouse(), MemoryWarehouse()
    (tmp_path / "toy_tags.py").write_text(TAG_MODEL)
    step = Step(
        "model.p.toy_tags",
        "toy_tags",
        "toy_enrichment",
        tmp_path / "toy_tags.py",
        ("texts",),
        {"materialized": "incremental", "unique_key": "text_id", "meta": {"row_input": "texts"}},
    )
    schemas = {"texts": "toy_marts", "toy_tags": "toy_enrichment"}
    worlds = [
        {
            "text_id": [f"t{i}" for i in range(7)],
            "text": ["late", "broken", "ok", "refund", "slow", "fine", "x"],
        },
        {
            "text_id": ["t0", "t1", "t2", "t3", "t4", "t5", "t7"],
            "text": ["late", "fixed", "ok", "refund", "slow", "fine", "new"],
        },
    ]
    os.environ["CHURN_SPARK_ROWS_PER_TASK"] = "2"
    try:
        for texts in worlds:
            for wh in (spark_wh, memory):
                wh.replace("toy_marts", "texts", pa.table(texts))
            assert run_in_partitions(step, spark_wh, schemas) == run_step(step, memory, schemas)
            expected = memory.read("toy_enrichment", "toy_tags")
            assert table_differences(expected, spark_wh.read("toy_enrichment", "toy_tags")) == []
    finally:
        os.environ.pop("CHURN_SPARK_ROWS_PER_TASK")
    runs = sorted(
        spark_wh.read("toy_enrichment", "enrichment_runs").to_pylist(), key=lambda r: r["started_at"]
    )
    assert [(r["source_rows"], r["rows_ok"]) for r in runs] == [(7, 7), (7, 2)]  # t1 edited, t7 new
