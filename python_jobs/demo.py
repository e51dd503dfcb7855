"""`churn demo`: generate (or point at) raw data, run the whole dbt DAG, render the report, print headlines."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import click

from python_jobs import config
from python_jobs.build import build_from_export, build_warehouse, built_line, finish_build

log = logging.getLogger(__name__)

# The UCI Online Retail I example (design section 11's definition lives in the mapping's vars).
ONLINE_RETAIL_MAPPING = config.REPO_ROOT / "examples" / "mappings" / "online_retail_i.yml"


@click.command()
@click.option("--source", type=click.Choice(["synthetic", "online_retail"]), default="synthetic")
@click.option("--customers", default=20_000, show_default=True, help="Synthetic world size.")
@click.option("--seed", default=42, show_default=True)
@click.option(
    "--raw-path",
    type=click.Path(path_type=Path),
    default=None,
    help="Raw data folder (synthetic: generated here if empty; online_retail: the folder holding the downloaded "
    "UCI file online_retail_I_2010-2011.parquet, see README).",
)
@click.option("--regenerate", is_flag=True, help="Regenerate the synthetic world even if it exists.")
@click.option("--report/--no-report", default=True, show_default=True, help="Render the HTML report.")
def demo(
    source: str, customers: int, seed: int, raw_path: Path | None, regenerate: bool, report: bool
) -> None:
    """Run the product end to end and print where everything is."""
    t0 = time.perf_counter()
    if source == "online_retail":
        if raw_path is None:
            raise click.UsageError(
                "--source online_retail needs --raw-path: the folder holding the UCI Online Retail file (README)."
            )
        build_from_export(ONLINE_RETAIL_MAPPING, raw_path, report=report)
        click.echo(f"Demo finished in {time.perf_counter() - t0:.0f}s")
        return
    raw = (raw_path or Path(config.DEFAULT_RAW_PATH)).resolve()
    if regenerate or not (raw / "customers.parquet").exists():
        from python_jobs.synth import generate_world

        click.echo(f"Generating a {customers:,}-customer shop world (seed {seed}) in {raw} ...")
        generate_world(n_customers=customers, seed=seed, out_dir=raw)
    db = config.duckdb_path()
    click.echo("Running dbt build (staging -> marts -> enrichment -> models -> reports, with every test) ...")
    seconds = build_warehouse(db, env={"CHURN_RAW_PATH": str(raw)})
    click.echo(built_line(seconds, db))
    finish_build(db, "synthetic", report=report, raw_path=raw, skipped=seconds is None)
    click.echo(f"Demo finished in {time.perf_counter() - t0:.0f}s")
