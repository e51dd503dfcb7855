"""`churn build`: `dbt build` into a working copy of the warehouse, published atomically on success."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from python_jobs import config
from python_jobs.dbt_runner import run_dbt
from python_jobs.publish import build_and_publish


def build_warehouse(
    db: Path | None = None,
    vars: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    extra_args: tuple[str, ...] = (),
) -> float:
    """Build and publish; returns the dbt build time in seconds. The published file is untouched on failure."""
    published = db or config.duckdb_path()

    def build(work: Path) -> float:
        t0 = time.perf_counter()
        run_dbt(["build", *extra_args], vars=vars, env={**(env or {}), "CHURN_DUCKDB_PATH": str(work)})
        return time.perf_counter() - t0

    return build_and_publish(published, build)


@click.command()
@click.option(
    "--vars", "vars_json", default="{}", help="dbt vars as JSON, e.g. '{\"churn_horizon_days\": 60}'."
)
@click.option(
    "--full-refresh", is_flag=True, help="Rebuild incremental models (the LLM cache still applies)."
)
@click.option("--select", "select", default=None, help="dbt node selection.")
def build(vars_json: str, full_refresh: bool, select: str | None) -> None:
    """Run `dbt build` and publish the warehouse atomically (readers never see a half-built one)."""
    extra: tuple[str, ...] = ("--full-refresh",) if full_refresh else ()
    if select:
        extra += ("--select", select)
    seconds = build_warehouse(vars=json.loads(vars_json), extra_args=extra)
    click.echo(f"dbt build finished in {seconds:.0f}s; published {config.duckdb_path()}")
