"""`churn load-raw`, and `churn build` on a warehouse where dbt does not run Python models (CHURN_TARGET)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from python_jobs import config
from python_jobs.engines.warehouse_io import PostgresWarehouse, SparkWarehouse, Warehouse, postgres_uri

log = logging.getLogger(__name__)


def warehouse_for(adapter_type: str, env: Mapping[str, str] | None = None) -> Warehouse:
    if adapter_type == "postgres":
        return PostgresWarehouse(postgres_uri(env))
    if adapter_type == "spark":
        from python_jobs.dbt_runner import run_dbt
        from python_jobs.engines.warehouse_io import spark_workers_use_this_python

        spark_workers_use_this_python()
        run_dbt(["run-operation", "churn_connect"], env=env)  # the session, with the profile's settings
        return SparkWarehouse()
    raise click.ClickException(
        f"Target type {adapter_type!r} runs no Python models and has no Python-step warehouse here: "
        "use a duckdb, postgres or spark target (profiles.yml)."
    )


def target_name() -> str:
    return os.environ.get("CHURN_TARGET", "dev")


def engine_warehouse(env: Mapping[str, str] | None = None) -> Warehouse | None:
    """The CHURN_TARGET warehouse when dbt runs no Python models there; None on DuckDB (the file is read)."""
    from python_jobs.engines.orchestrate import parsed_manifest

    adapter_type = parsed_manifest(None, env)["metadata"]["adapter_type"]
    return None if adapter_type == "duckdb" else warehouse_for(adapter_type, env)


def engine_report_path() -> Path:
    """Each target its own report: env CHURN_REPORT_PATH, else warehouse/<target>_report.html."""
    return (
        config.report_path()
        if os.environ.get("CHURN_REPORT_PATH")
        else Path(f"warehouse/{target_name()}_report.html")
    )


def build_on_engine(
    extra_args: Sequence[str] = (),
    vars: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    report: bool = True,
) -> bool:
    """Build on the CHURN_TARGET warehouse when dbt runs no Python models there, then render its report; False
    when dbt does run them (DuckDB: the caller builds and publishes the file as usual)."""
    from python_jobs.engines.orchestrate import build_with_steps, parsed_manifest

    manifest = parsed_manifest(vars, env)
    adapter_type = manifest["metadata"]["adapter_type"]
    if adapter_type == "duckdb":
        return False
    t0 = time.perf_counter()
    click.echo(f"Building on target {target_name()} ({adapter_type}): dbt waves and Python steps ...")
    warehouse = warehouse_for(adapter_type, env)
    build_with_steps(warehouse, manifest, extra_args, vars=vars, env=env)
    click.echo(f"Build on {target_name()} finished in {time.perf_counter() - t0:.0f}s")
    if report:
        from python_jobs.report.commands import render_report

        click.echo(f"Report: {render_report(out=engine_report_path(), engine=warehouse)}")
    return True


@click.command("load-raw")
@click.option(
    "--raw-path",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    required=True,
    help="Folder of raw Parquet tables (e.g. from `churn generate --out DIR`).",
)
@click.option(
    "--schema",
    default=lambda: os.environ.get("CHURN_RAW_SCHEMA", "raw"),
    show_default="raw",
    help="Schema to load into (env CHURN_RAW_SCHEMA); the sources read it.",
)
def load_raw_command(raw_path: Path, schema: str) -> None:
    """Load a folder of raw Parquet tables into the CHURN_TARGET warehouse (PostgreSQL), one table each."""
    from python_jobs.engines.load_raw import load_raw
    from python_jobs.engines.orchestrate import parsed_manifest

    adapter_type = parsed_manifest(None, None)["metadata"]["adapter_type"]
    if adapter_type == "duckdb":
        raise click.ClickException(
            "DuckDB reads the raw Parquet files directly: point CHURN_RAW_PATH at them."
        )
    loaded = load_raw(raw_path, warehouse_for(adapter_type), schema=schema)
    for name, rows in loaded.items():
        click.echo(f"{schema}.{name}: {rows:,} rows")
