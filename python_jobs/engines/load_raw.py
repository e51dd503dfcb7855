"""Load a raw world (one Parquet file per table) into warehouse tables, for engines that read sources as tables.

On DuckDB the sources are the Parquet files themselves. On PostgreSQL (and Spark) a shop's own loader puts the raw
tables in a schema (env CHURN_RAW_SCHEMA, default `raw`); this is that loader for the synthetic world, an export
converted by `churn check`, and the engine tests: each table is replaced whole (Warehouse.load_parquet).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pyarrow.parquet as pq

from python_jobs.engines.warehouse_io import Warehouse

log = logging.getLogger(__name__)


def raw_tables(raw_dir: Path) -> dict[str, Path]:
    """Table name -> Parquet file of a raw world folder (the generator's truth_* tables are not shop data)."""
    files = sorted(p for p in Path(raw_dir).glob("*.parquet") if not p.stem.startswith("truth_"))
    if not files:
        raise FileNotFoundError(
            f"No raw tables (*.parquet) in {raw_dir}: run `churn generate --out {raw_dir}`"
        )
    return {p.stem: p for p in files}


def load_raw(raw_dir: Path, warehouse: Warehouse, schema: str = "raw") -> dict[str, int]:
    """Replace `schema`.<table> for every raw table; returns rows loaded per table."""
    loaded = {}
    for name, path in raw_tables(raw_dir).items():
        warehouse.load_parquet(schema, name, path)
        loaded[name] = pq.ParquetFile(path).metadata.num_rows
        log.info("loaded %s.%s: %s rows", schema, name, f"{loaded[name]:,}")
    return loaded
