"""`churn build`: `dbt build` into a working copy of the warehouse, published atomically on success.

With `--mapping FILE --raw-path DIR` (or `--raw-path DIR` alone for files already named after the contract) it
first runs `churn check` on the export, stops on errors, and builds from the contract-shaped files the check wrote.
Every build ends with the quarantine summary, the report it wrote and the headline numbers.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click

from python_jobs import build_state, config, warehouse
from python_jobs.dbt_runner import PRODUCTION_BUILD_ARGS, run_dbt
from python_jobs.engines.commands import target_name
from python_jobs.mapping.commands import check_export, export_options
from python_jobs.publish import build_and_publish
from python_jobs.warehouse import first_row

log = logging.getLogger(__name__)


PARTIAL_ARGS = ("--select", "-s", "--exclude", "--selector")


def build_warehouse(
    db: Path | None = None,
    vars: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    extra_args: tuple[str, ...] = (),
    force: bool = False,
) -> float | None:
    """Build and publish; returns the dbt build time in seconds, or None when the build was skipped because
    nothing it reads changed since the published warehouse was built (build_state). The published file is
    untouched on failure."""
    published = db or config.duckdb_path()
    vars, settings = dict(vars or {}), {**os.environ, **(env or {})}
    partial = any(a in PARTIAL_ARGS for a in extra_args)
    if force or extra_args:  # runs whatever changed; a partial build records nothing, so needs no fingerprint
        parts = None if partial else build_state.current_parts(vars, settings, dated=False)
    else:
        decision, parts = build_state.decide(published, vars, settings)
        click.echo(f"{'Skipping' if decision.skip else 'Building'}: {decision.why}.")
        if decision.skip:
            return None

    def build(work: Path, ready: Callable[[], None]) -> float:
        t0 = time.perf_counter()
        run_dbt(
            ["build", *PRODUCTION_BUILD_ARGS, *extra_args],
            vars=vars,
            env={**(env or {}), "CHURN_DUCKDB_PATH": str(work)},
            before_connect=ready,
        )
        if parts is not None:  # dbt's on-run-start dropped the old record (macros/forget_build_state.sql)
            build_state.record(work, parts, vars)
        return time.perf_counter() - t0

    return build_and_publish(published, build)


def built_line(seconds: float | None, db: Path) -> str:
    if seconds is None:
        return f"No dbt run: {db} is current (--force builds anyway)."
    return f"dbt build finished in {seconds:.0f}s; published {db}"


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


def headline_text(db: Path) -> str:
    """The numbers a newcomer wants first, from the warehouse tables the build just wrote."""
    lines = [f"Warehouse: {db}"]
    with warehouse.connect(db) as con:
        if warehouse.table_exists(con, "marts", "churn_labels"):
            n_cust, n_snap = first_row(
                con.execute(
                    "select count(distinct customer_id), count(distinct snapshot_date) from marts.churn_labels"
                )
            )
            lines.append(f"Customers with labels: {n_cust:,} over {n_snap} snapshots")
            rows = con.execute(
                """
                select snapshot_date, count(*) as eligible, avg(churned::int) as churn_rate
                from marts.churn_labels
                where is_eligible and horizon_observed
                group by snapshot_date order by snapshot_date desc limit 3
                """
            ).fetchall()
            for snap, eligible, rate in rows:
                lines.append(f"  snapshot {snap}: {eligible:,} eligible, churn rate {rate:.1%}")
        try:
            from python_jobs.churn.summary import comparison_text

            lines.append(comparison_text(con))
        except ImportError:
            log.debug("churn summary not available")
        try:
            from python_jobs.report.headline import headline_text as risk_text

            lines.append(risk_text(con))
        except ImportError:
            log.debug("report headline not available")
    return "\n".join(lines)


def report_path_for(db: Path) -> Path:
    """Each warehouse its own report: env CHURN_REPORT_PATH, else <db stem>_report.html beside the warehouse."""
    if os.environ.get("CHURN_REPORT_PATH"):
        return config.report_path()
    return db.with_name(f"{db.stem}_report.html")


def finish_build(
    db: Path, source: str, report: bool = True, raw_path: Path | None = None, skipped: bool = False
) -> None:
    """After a published (or skipped) build: quarantine summary, the report (named), then the headline numbers."""
    click.echo(format_quarantine_summary(quarantine_summary(db, source), source))
    if report and skipped and report_path_for(db).exists():
        click.echo(f"Report (unchanged): {report_path_for(db)}")
    elif report:
        from python_jobs.report.commands import render_report

        click.echo(f"Report: {render_report(db=db, out=report_path_for(db), raw_path=raw_path)}")
    click.echo(headline_text(db))


def build_from_export(
    mapping_file: Path | None,
    raw_path: Path,
    cli_vars: Mapping[str, Any] | None = None,
    extra_args: tuple[str, ...] = (),
    report: bool = True,
    force: bool = False,
) -> Path:
    """`churn check` the export's files through the mapping, stop on errors, build and publish; returns the
    warehouse.

    Not the check's dry run of staging: the build stages the same rows with the same rules, stops on the same
    errors (a required table without valid rows, too short a history) with the same messages, and ends with the
    quarantine summary. The dry run is a full staging of the export into a scratch file, every night: at 1M
    customers the check with it took 139 s, as long as the nightly build. The warehouse is
    warehouse/<mapping name>.duckdb (env CHURN_DUCKDB_PATH wins); the check's contract-shaped files and the model
    artifacts live in the folder of the same name beside it.
    """
    result = check_export(mapping_file, raw_path, dict(cli_vars or {}), staging=False)
    if result.errors:
        raise click.ClickException("churn check found errors: nothing was built.")
    mapping = result.mapping
    db = mapping.warehouse_path()
    work = db.with_suffix("")
    dbt_vars = mapping.dbt_vars(dict(cli_vars or {}))
    env = {
        "CHURN_RAW_PATH": str(result.raw_dir),
        "CHURN_SOURCE_SYSTEM": mapping.source_system,
        "CHURN_MODEL_DIR": str(config.env_path("CHURN_MODEL_DIR", str(work / "models"))),
    }
    click.echo(f"Running dbt build into {db} ...")
    seconds = build_warehouse(db, vars=dbt_vars, env=env, extra_args=extra_args, force=force)
    click.echo(built_line(seconds, db))
    finish_build(db, mapping.source_system, report=report, skipped=seconds is None)
    return db


@click.command()
@export_options(raw_path_required=False)
@click.option(
    "--full-refresh", is_flag=True, help="Rebuild incremental models (the LLM cache still applies)."
)
@click.option("--select", "select", default=None, help="dbt node selection.")
@click.option(
    "--force", is_flag=True, help="Run dbt even when nothing changed since the published build (see README)."
)
@click.option("--report/--no-report", default=True, show_default=True, help="Render the HTML report.")
def build(
    mapping_file: Path | None,
    raw_path: Path | None,
    vars_json: str,
    full_refresh: bool,
    select: str | None,
    force: bool,
    report: bool,
) -> None:
    """Check the export, run `dbt build` and publish the warehouse atomically (readers never see a half-built one)."""
    extra: tuple[str, ...] = ("--full-refresh",) if full_refresh else ()
    if select:
        extra += ("--select", select)
    dbt_vars = json.loads(vars_json)
    if target_name() != "dev":  # another profiles.yml target, e.g. postgres: no DuckDB file to publish
        from python_jobs.engines.commands import build_on_engine

        if raw_path is not None:
            raise click.UsageError(
                f"Target {target_name()} reads raw tables from the warehouse: load them "
                "there (`churn load-raw --raw-path DIR`), then build without --raw-path."
            )
        if build_on_engine(extra, vars=dbt_vars, report=report):
            return
    if mapping_file and raw_path is None:
        raise click.UsageError("--mapping needs --raw-path (the folder its file names resolve against).")
    if raw_path is not None:
        build_from_export(mapping_file, raw_path, dbt_vars, extra, report=report, force=force)
        return
    seconds = build_warehouse(vars=dbt_vars, extra_args=extra, force=force)
    click.echo(built_line(seconds, config.duckdb_path()))
    finish_build(config.duckdb_path(), source_system(dbt_vars), report=report, skipped=seconds is None)
