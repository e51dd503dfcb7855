"""`churn check`: validate raw files against the contract through a mapping, listing every problem at once.

Two passes. The first reads each mapped file with DuckDB (missing file, CSV beside a missing Parquet, unreadable
file, missing or mistyped column, text in a number or date column, empty table, date range) and writes the
contract-shaped Parquet. The second runs the real staging and snapshot spine (dbt, into a scratch DuckDB) on those
files, so the quarantine shares and the history check are exactly what the build will see.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb

from python_jobs.mapping.materialize import clear_raw_dir
from python_jobs.mapping.problems import CheckResult, Problem
from python_jobs.mapping.spec import Mapping
from python_jobs.mapping.staging_check import staging_pass
from python_jobs.mapping.table_check import check_table

__all__ = ["CheckResult", "Problem", "check_table", "remove_work", "run_check"]


def run_check(
    mapping: Mapping,
    raw_path: Path,
    work_dir: Path,
    dbt_vars: dict[str, Any] | None = None,
    staging: bool = True,
) -> CheckResult:
    """Check every mapped table, write the contract-shaped files to work_dir/raw, then (when every required table
    was written) dry-run staging and the snapshot spine on them."""
    raw_dir = work_dir / "raw"
    result = CheckResult(mapping, raw_dir)
    if not Path(raw_path).is_dir():
        result.problems.append(
            Problem(
                "error",
                f"--raw-path {raw_path} is not a folder",
                "pass the folder holding the exported files",
            )
        )
        return result
    raw_dir.mkdir(parents=True, exist_ok=True)
    clear_raw_dir(raw_dir, mapping)
    with duckdb.connect() as con:
        for spec in mapping.tables.values():
            problems, n = check_table(con, mapping, spec, Path(raw_path).resolve(), raw_dir)
            result.problems += problems
            if n is None:
                (raw_dir / f"{spec.name}.parquet").unlink(missing_ok=True)
            else:
                result.rows[spec.name] = n
    required_written = all(name in result.rows for name, table in mapping.contract.items() if table.required)
    if staging and required_written:
        staging_pass(result, work_dir, mapping.dbt_vars(dbt_vars))
    elif staging:
        result.problems.append(
            Problem(
                "info", "quarantine shares and the history check run once the required tables read cleanly"
            )
        )
    return result


def remove_work(work_dir: Path) -> None:
    shutil.rmtree(work_dir, ignore_errors=True)
