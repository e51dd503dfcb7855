"""`churn build`: `dbt build` into a working copy of the warehouse, published atomically on success."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from python_jobs import config, warehouse
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


def source_system(vars: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> str:
    """The staging folder a build uses: env CHURN_SOURCE_SYSTEM wins over the source_system var."""
    return (
        (env or {}).get("CHURN_SOURCE_SYSTEM")
        or os.environ.get("CHURN_SOURCE_SYSTEM")
        or str((vars or {}).get("source_system") or "synthetic")
    )


def quarantine_summary(db: Path, source: str = "synthetic") -> list[tuple[str, str, int]]:
    """(raw table, reason, rows) left out of staging by the last build, largest first within a table."""
    name = f"stg_{source}__quarantine"
    with warehouse.connect(db) as con:
        if not warehouse.table_exists(con, "staging", name):
            return []
        return [
            (table, reason, int(rows))
            for table, reason, rows in con.execute(
                f"select source_table, reason, count(*) from staging.{name} group by all order by 1, 3 desc, 2"
            ).fetchall()
        ]


def format_quarantine_summary(rows: list[tuple[str, str, int]], source: str = "synthetic") -> str:
    """One line per raw table: rows quarantined, then each reason with its rows."""
    if not rows:
        return "Quarantine: no raw row was left out of staging."
    tables: dict[str, list[tuple[str, int]]] = {}
    for table, reason, n in rows:
        tables.setdefault(table, []).append((reason, n))
    total = sum(n for *_, n in rows)
    width = max(map(len, tables))
    lines = [
        f"Quarantine: {total:,} raw rows left out of staging (row by row: staging.stg_{source}__quarantine)"
    ]
    for table, reasons in tables.items():
        detail = ", ".join(f"{reason} {n:,}" for reason, n in reasons)
        lines.append(f"  {table:<{width}} {sum(n for _, n in reasons):>9,}  {detail}")
    return "\n".join(lines)


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
    dbt_vars = json.loads(vars_json)
    seconds = build_warehouse(vars=dbt_vars, extra_args=extra)
    click.echo(f"dbt build finished in {seconds:.0f}s; published {config.duckdb_path()}")
    source = source_system(dbt_vars)
    click.echo(format_quarantine_summary(quarantine_summary(config.duckdb_path(), source), source))
