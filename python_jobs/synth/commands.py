"""`churn generate`: write the synthetic shop world as Parquet."""

from __future__ import annotations

import logging

import click

from python_jobs import config
from python_jobs.synth.dirty import DEFAULT_SHARE
from python_jobs.synth.generate import DEFAULT_CHUNK, generate_world

log = logging.getLogger(__name__)


@click.command()
@click.option("--customers", "n_customers", type=click.IntRange(min=1), default=20_000, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False), default=config.DEFAULT_RAW_PATH, show_default=True
)
@click.option("--start", default="2024-01-01", show_default=True, help="First day of the world (UTC).")
@click.option("--days", type=click.IntRange(min=30), default=730, show_default=True)
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=DEFAULT_CHUNK,
    show_default=True,
    help="Customers buffered per Parquet write (memory); does not change the generated content.",
)
@click.option("--clean", is_flag=True, help="Plant no dirty rows.")
@click.option(
    "--stats", "show_stats", is_flag=True, help="Print headline statistics of the world afterwards."
)
def generate(
    n_customers: int,
    seed: int,
    out_dir: str,
    start: str,
    days: int,
    chunk_size: int,
    clean: bool,
    show_stats: bool,
) -> None:
    """Generate a synthetic shop world (raw tables + truth_* tables) into OUT as Parquet."""
    rows = generate_world(
        n_customers,
        seed,
        out_dir,
        start=start,
        days=days,
        chunk_size=chunk_size,
        dirty_share=0.0 if clean else DEFAULT_SHARE,
    )
    width = max(len(k) for k in rows)
    for name, n in rows.items():
        click.echo(f"{name:<{width}}  {n:>12,}")
    click.echo(f"written to {out_dir}")
    if show_stats:
        from python_jobs.synth.stats import world_stats

        for key, value in world_stats(out_dir).items():
            click.echo(f"{key:<32} {value:>12,.4f}")
