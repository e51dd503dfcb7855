"""The second pass of `churn check`: the real staging and snapshot spine (dbt, into a scratch DuckDB) on the
written files, so quarantine shares and the history check are exactly what the build will see."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb

from python_jobs.mapping.problems import CheckResult, Problem
from python_jobs.mapping.spec import project_vars
from python_jobs.warehouse import first_row

REASON_FIX = {
    "unparseable_value": "a value did not parse (quarantine detail names the column): fix the export or the "
    "mapping's format hints",
    "null_id": "rows without their id: export the id column for every row",
    "null_customer_id": "rows without a customer: guest sales or a wrong customer_id mapping",
    "null_timestamp": "rows without their date: map the date column (and date_format)",
    "duplicate_row": "exact copies of a row: one copy is kept (overlapping export files?)",
    "duplicate_id": "several rows share one id: one is kept; check the id mapping",
    "orphan_customer": "customer_id not in customers: export every customer who ordered, or map the same key",
    "orphan_order": "order_id not in orders: export the orders of these rows",
    "negative_amount": "negative amounts: map refunds as status 'returned', not as negative orders",
    "negative_count": "negative counts",
    "future_timestamp": "dated after today (or var max_valid_date): check the date_format (day/month swapped?)",
    "invalid_status": "status must be completed, cancelled or returned: map it with a sql CASE expression",
    "invalid_rating": "ratings must be 1-5: map your scale onto 1-5 with a sql expression",
    "invalid_arm": "arm must be treatment or control: map it with a sql CASE expression",
    "empty_text": "texts without a body",
    "cancellation": "cancellation invoices (number starting with 'C'): expected, they are not orders",
    "non_positive_quantity": "lines with quantity <= 0 (returns, adjustments): expected in invoice lines",
    "non_positive_price": "lines with price <= 0 (adjustments, samples): expected in invoice lines",
}


def _dbt_message(exc: Exception) -> str:
    """The useful part of a dbt failure (the compiler error's own text)."""
    text = str(exc)
    match = re.search(r"(Too little history.*?|Required raw table.*?|Raw table .*?)(?:\n|$)", text, re.S)
    return (match.group(1) if match else text).strip()


def staging_pass(result: CheckResult, work_dir: Path, dbt_vars: dict[str, Any]) -> None:
    """Run the real staging and spine on the written files; quarantine shares and history from the real rules."""
    from python_jobs.dbt_runner import DbtError, run_dbt

    system = result.mapping.source_system
    db = work_dir / "check.duckdb"
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    env = {
        "CHURN_RAW_PATH": str(result.raw_dir),
        "CHURN_SOURCE_SYSTEM": system,
        "CHURN_DUCKDB_PATH": str(db),
        "DBT_TARGET_PATH": str(work_dir / "target"),
        "DBT_LOG_PATH": str(work_dir / "logs"),
    }
    try:
        run_dbt(
            ["run", "--quiet", "--select", "+int_snapshot_spine", f"+stg_{system}__quarantine"],
            vars=dbt_vars,
            env=env,
        )
        run_dbt(["run-operation", "--quiet", "require_history"], vars=dbt_vars, env=env)
    except DbtError as exc:
        result.problems.append(Problem("error", _dbt_message(exc), "", None))
    if not db.exists():
        return
    settings = project_vars() | dbt_vars
    with duckdb.connect(str(db), read_only=True) as con:
        result.problems += _quarantine_problems(
            con, system, result.rows, float(settings["quarantine_warn_share"])
        )
        result.problems += _spine_problems(con, int(settings["churn_horizon_days"]))
    db.unlink(missing_ok=True)


def _quarantine_problems(
    con: duckdb.DuckDBPyConnection, system: str, rows: dict[str, int], warn_share: float
) -> list[Problem]:
    try:
        counts = con.execute(
            f"select source_table, reason, count(*) from staging.stg_{system}__quarantine group by all order by 1, 3 desc"
        ).fetchall()
    except duckdb.Error:
        return []
    problems = []
    for table, reason, n in counts:
        share = n / max(rows.get(table, n), 1)
        problems.append(
            Problem(
                "warning" if share > warn_share else "info",
                f"{n:,} of {rows.get(table, n):,} rows ({share:.1%}) will be quarantined: {reason}",
                REASON_FIX.get(reason, ""),
                table,
            )
        )
    return problems


def _spine_problems(con: duckdb.DuckDBPyConnection, horizon: int) -> list[Problem]:
    try:
        row = first_row(
            con.execute(
                """
            select min(snapshot_date) filter (where split = 'train'), max(snapshot_date) filter (where split = 'train'),
                   count(*) filter (where split = 'train'), max(eval_snapshot_date),
                   max(snapshot_date) filter (where is_as_of)
            from intermediate.int_snapshot_spine
            """
            )
        )
    except duckdb.Error:
        return []
    first, last, n_train, evaluation, as_of = row
    return [
        Problem(
            "info",
            f"dates from the data: {n_train} training snapshots {first}..{last}, evaluation snapshot {evaluation}, "
            f"scores as of {as_of}, {horizon}-day horizon",
        )
    ]
