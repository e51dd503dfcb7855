"""`churn report`: render the warehouse into one self-contained HTML file."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import click
import pandas as pd

from python_jobs import config, warehouse
from python_jobs.cli_options import path_option
from python_jobs.engines.commands import target_name
from python_jobs.engines.warehouse_io import Warehouse
from python_jobs.report.data import load_report_data
from python_jobs.report.engine_tables import report_tables
from python_jobs.report.render import render_html

log = logging.getLogger(__name__)


def load_truth_campaigns(raw_path: Path | None = None) -> pd.DataFrame | None:
    """Planted campaign effects (evaluation only): shown beside the measured ones when the file exists."""
    raw = raw_path or config.raw_path()
    path = raw / "truth_campaigns.parquet"
    if not path.exists():
        return None
    try:
        return pd.read_parquet(path, columns=["campaign_id", "action", "planted_effect"])
    except (OSError, ValueError, KeyError) as exc:
        log.warning("could not read %s: %s", path, exc)
        return None


def render_report(
    db: Path | None = None,
    out: Path | None = None,
    raw_path: Path | None = None,
    engine: Warehouse | None = None,
) -> Path:
    """Read the DuckDB warehouse at `db`, or the report's tables of another `engine`'s warehouse, and write the
    HTML report to `out`; returns the path written."""
    t0 = time.perf_counter()
    out = Path(out) if out else config.report_path()
    if engine is None:
        with warehouse.connect(db) as con:
            data = load_report_data(con)
    else:
        con, source_rows = report_tables(engine)
        with con:
            data = load_report_data(con, source_rows)
    html = render_html(data, truth=load_truth_campaigns(raw_path))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".html.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    log.info(
        "report: %s (%.0f kB, sections with data: %s) in %.2fs",
        out,
        out.stat().st_size / 1024,
        ", ".join(data.available()) or "none",
        time.perf_counter() - t0,
    )
    return out


@click.command()
@path_option("--db", help="Warehouse (default: CHURN_DUCKDB_PATH).")
@path_option("--out", help="HTML file (default: CHURN_REPORT_PATH).")
@path_option("--raw-path", help="Raw folder with truth_* tables.")
def report(db: Path | None, out: Path | None, raw_path: Path | None) -> None:
    """Render the churn report (one self-contained HTML file that opens offline). On a PostgreSQL or Spark
    target (CHURN_TARGET) it reads that warehouse's report tables."""
    engine = None
    if target_name() != "dev":
        from python_jobs.engines.commands import engine_report_path, engine_warehouse

        engine = engine_warehouse()
        out = out or (engine_report_path() if engine is not None else None)
    path = render_report(db=db, out=out, raw_path=raw_path, engine=engine)
    click.echo(f"Report: {path} ({path.stat().st_size / 1024:.0f} kB)")
