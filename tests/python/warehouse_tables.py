"""Compare whole warehouses table by table (floats within 1e-9), for tests that prove two builds are equal."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

# Columns that record when a build ran, and tables that log builds: not data.
BUILD_TIME_COLUMNS = {
    "enriched_at",
    "artifact_path",
    # ml.churn_model_runs: whether and how long this build fitted the run
    "run_status",
    "fit_wall_seconds",
    "fit_cpu_seconds",
    "fit_timings",
    "built_at",
}
BUILD_LOG_TABLES = {"enrichment_runs", "churn_snapshot_builds", "churn_staging_builds"}


def all_tables(db: Path) -> dict[str, pd.DataFrame]:
    out = {}
    with duckdb.connect(str(db), read_only=True) as con:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE'"
        ).fetchall()
        for schema, table in names:
            if table in BUILD_LOG_TABLES or table.endswith("__dbt_tmp"):
                continue
            df = con.execute(f'select * from "{schema}"."{table}"').df()
            out[f"{schema}.{table}"] = df.drop(columns=[c for c in df if c in BUILD_TIME_COLUMNS])
    return out


def _cell(value: object) -> object:
    """A list cell as a tuple (numbers rounded to 1e-9, so float noise below the tolerance compares equal)."""
    if not isinstance(value, list | np.ndarray):
        return value
    arr = np.asarray(value)
    return (
        tuple(np.round(arr.astype(float), 9)) if np.issubdtype(arr.dtype, np.number) else tuple(arr.tolist())
    )


def canonical(df: pd.DataFrame) -> pd.DataFrame:
    """Columns by name, rows in a fixed order (by every non-float column), list cells as tuples."""
    df = df.sort_index(axis=1)
    for col in df.columns:
        if df[col].dtype == object and df[col].map(lambda v: isinstance(v, list | np.ndarray)).any():
            df[col] = df[col].map(_cell)
    keys = [c for c in df.columns if not pd.api.types.is_float_dtype(df[c])]
    return df.sort_values(keys, kind="stable").reset_index(drop=True) if keys else df


def assert_same_tables(first_db: Path, second_db: Path, min_tables: int = 40) -> list[str]:
    """Every table of the two warehouses has the same rows and values; returns the table names compared."""
    first, second = all_tables(first_db), all_tables(second_db)
    assert sorted(first) == sorted(second)
    assert len(first) > min_tables
    for name in first:
        pd.testing.assert_frame_equal(
            canonical(first[name]),
            canonical(second[name]),
            check_exact=False,
            rtol=0,
            atol=1e-9,
            obj=name,
        )
    return sorted(first)
