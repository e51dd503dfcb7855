"""`churn check`: validate raw files against the contract through a mapping, listing every problem at once.

Two passes. The first reads each mapped file with DuckDB (missing file, CSV beside a missing Parquet, unreadable
file, missing or mistyped column, text in a number or date column, empty table, date range) and writes the
contract-shaped Parquet. The second runs the real staging and snapshot spine (dbt, into a scratch DuckDB) on those
files, so the quarantine shares and the history check are exactly what the build will see.
"""

from __future__ import annotations

import difflib
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from python_jobs.mapping.materialize import (
    ColumnSource,
    clear_raw_dir,
    column_sources,
    file_columns,
    file_kind,
    literal,
    mapped_select,
    quote,
    reader_sql,
    resolve_files,
    write_table,
)
from python_jobs.mapping.spec import ContractTable, Mapping, TableSpec, project_vars

# The column whose range is the data's history (the snapshot spine is built from it).
EVENT_COLUMNS = {"orders": "ordered_at", "transactions": "invoiced_at"}
DATE_FORMATS = (
    "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S", "%d/%m/%Y %H:%M:%S.%f",
    "%m/%d/%Y %H:%M:%S.%f", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M:%S.%f",
    "%d.%m.%Y", "%d-%m-%Y %H:%M", "%d-%m-%Y", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%m/%d/%Y %I:%M %p", "%d %b %Y",
    "%d %B %Y", "%b %d, %Y", "%Y%m%d",
)  # fmt: skip
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


@dataclass(frozen=True)
class Problem:
    level: str  # error (the build would fail or be wrong) | warning (rows will be lost or ignored) | info
    message: str
    fix: str = ""
    table: str | None = None
    column: str | None = None
    file: str | None = None

    def format(self) -> str:
        where = ".".join(p for p in (self.table, self.column) if p)
        head = f"{self.level.upper():<7} " + (f"{where}: " if where else "") + self.message
        if self.file:
            head += f" [{self.file}]"
        return head + (f"\n        -> {self.fix}" if self.fix else "")


@dataclass
class CheckResult:
    mapping: Mapping
    raw_dir: Path  # contract-shaped Parquet written for staging
    problems: list[Problem] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    def format(self) -> str:
        counts = {lvl: sum(p.level == lvl for p in self.problems) for lvl in ("error", "warning")}
        lines = [
            p.format()
            for p in sorted(self.problems, key=lambda p: ("error", "warning", "info").index(p.level))
        ]
        verdict = (
            "fix the errors above before `churn build`." if counts["error"] else "ready for `churn build`."
        )
        lines.append(f"{counts['error']} error(s), {counts['warning']} warning(s): {verdict}")
        return "\n".join(lines)


def _missing_file(spec: TableSpec, table: ContractTable, raw_path: Path) -> Problem:
    pattern = Path(spec.file)
    if pattern.suffix.lower() == ".parquet":
        siblings = resolve_files(
            TableSpec(spec.name, str(pattern.with_suffix(".csv")), {}, {}, {}, True), raw_path
        ) + resolve_files(TableSpec(spec.name, str(pattern.with_suffix(".*")), {}, {}, {}, True), raw_path)
        if siblings:
            other = siblings[0].relative_to(raw_path) if siblings[0].is_relative_to(raw_path) else siblings[0]
            return Problem(
                "error",
                f"no {spec.file} under {raw_path}, but {other} is there",
                f"point the mapping at it (tables.{spec.name}.file: {other}); CSV and Parquet are both read",
                table=spec.name,
                file=spec.file,
            )
    level = "error" if table.required or spec.listed else "info"
    if level == "info":
        return Problem("info", f"no {spec.file}: optional, its features are off", table=spec.name)
    return Problem(
        "error",
        f"missing file: nothing matches {spec.file} under {raw_path}"
        + (" (a required table)" if table.required else ""),
        f"export the table there, or set tables.{spec.name}.file to its file name or glob (relative to --raw-path)"
        + ("" if table.required else "; or drop the table from the mapping to switch its features off"),
        table=spec.name,
        file=spec.file,
    )


def _suggest_date_formats(con: duckdb.DuckDBPyConnection, select_sql: str, column: str) -> list[str]:
    """Formats from DATE_FORMATS that parse every one of 200 randomly sampled non-empty values (several when
    day and month cannot be told apart)."""
    sample = (
        f"select {quote(column)} as v from ({select_sql}) where {quote(column)} is not null "
        "using sample reservoir(200 rows) repeatable (1)"
    )
    found = []
    for fmt in DATE_FORMATS:
        ok = con.execute(
            f"select count(*) > 0 and bool_and(try_strptime(v, {literal(fmt)}) is not null) from ({sample})"
        ).fetchone()[0]
        if ok:
            found.append(fmt)
    return found


def _value_problems(
    con: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    select_sql: str,
    sources: list[ColumnSource],
    types: dict[str, str],
    n_rows: int,
    file_label: str,
) -> list[Problem]:
    """Text in a number or date column: the share of rows staging will quarantine as unparseable_value."""
    problems = []
    for s in sources:
        col = s.contract
        if col.data_type.lower() == "varchar":
            continue
        ident = quote(col.name)
        try:
            nonnull, bad, examples = con.execute(
                f"select count({ident}), count(*) filter (where {ident} is not null and "
                f"try_cast({ident} as {col.data_type}) is null), "
                f"array_slice(list(distinct cast({ident} as varchar)) filter (where {ident} is not null and "
                f"try_cast({ident} as {col.data_type}) is null), 1, 3) from ({select_sql})"
            ).fetchone()
        except duckdb.Error:
            nonnull, bad, examples = n_rows, n_rows, []
        if not bad:
            continue
        shown = ", ".join(repr(e) for e in (examples or [])[:3])
        kind = "date" if col.is_timestamp else "number" if col.is_number else col.data_type
        if col.is_timestamp:
            fmts = (
                _suggest_date_formats(con, select_sql, col.name)
                if types[col.name].startswith("VARCHAR")
                else []
            )
            fix = (
                f"set date_format for it (values parse with: {', '.join(repr(f) for f in fmts)})"
                if fmts
                else "set date_format (strftime codes, e.g. '%d/%m/%Y %H:%M'; a list tries each) or map a sql "
                "expression"
            )
        elif col.is_number:
            fix = "set decimal / thousands / currency_symbol in formats, or fix the export"
        else:
            fix = f"map a sql expression giving {col.data_type}"
        if bad == nonnull:
            problems.append(
                Problem(
                    "error",
                    f"mistyped column: none of its {nonnull:,} values ({s.described}, {types[col.name]}) reads as a "
                    f"{kind} ({col.data_type}), e.g. {shown}",
                    fix,
                    spec.name,
                    col.name,
                    file_label,
                )
            )
        else:
            problems.append(
                Problem(
                    "warning",
                    f"text in a {kind} column: {bad:,} of {n_rows:,} rows ({bad / n_rows:.1%}) do not read as "
                    f"{col.data_type}, e.g. {shown}; staging will quarantine them (unparseable_value)",
                    fix,
                    spec.name,
                    col.name,
                    file_label,
                )
            )
    return problems


def _date_range(
    con: duckdb.DuckDBPyConnection, spec: TableSpec, select_sql: str, file_label: str
) -> list[Problem]:
    column = EVENT_COLUMNS.get(spec.name)
    if column is None:
        return []
    ident = f"try_cast({quote(column)} as timestamp)"
    try:
        first, last, future, ancient = con.execute(
            f"select cast(min({ident}) as date), cast(max({ident}) as date), "
            f"count(*) filter (where {ident} > current_date + 1), "
            f"count(*) filter (where {ident} < date '1990-01-01') from ({select_sql})"
        ).fetchone()
    except duckdb.Error:
        return []
    if first is None:
        return []
    problems = [
        Problem(
            "info",
            f"dates run {first}..{last} ({(last - first).days:,} days)",
            table=spec.name,
            column=column,
        )
    ]
    if future:
        problems.append(
            Problem(
                "warning",
                f"{future:,} rows are dated after today; staging will quarantine them (future_timestamp)",
                "check date_format (day and month swapped?) or set var max_valid_date",
                spec.name,
                column,
                file_label,
            )
        )
    if ancient:
        problems.append(
            Problem(
                "warning",
                f"{ancient:,} rows are dated before 1990 (placeholder dates?); the spine starts at the first order",
                "map placeholder dates to null with a sql expression, or check date_format",
                spec.name,
                column,
                file_label,
            )
        )
    return problems


def check_table(
    con: duckdb.DuckDBPyConnection, mapping: Mapping, spec: TableSpec, raw_path: Path, out_dir: Path
) -> tuple[list[Problem], int | None]:
    """Problems of one table; writes its contract-shaped Parquet when it can be read. Returns (problems, rows)."""
    table = mapping.contract[spec.name]
    files = resolve_files(spec, raw_path)
    if not files:
        return [_missing_file(spec, table, raw_path)], None
    label = str(files[0].relative_to(raw_path) if files[0].is_relative_to(raw_path) else files[0])
    label += f" (+{len(files) - 1} more)" if len(files) > 1 else ""
    kinds = {file_kind(f) for f in files}
    if "excel" in kinds:
        return [
            Problem(
                "error",
                "Excel files are not read directly",
                "save the sheet as CSV or Parquet (one file per sheet) and point tables."
                f"{spec.name}.file at it",
                spec.name,
                file=label,
            )
        ], None
    if len(kinds) > 1:
        return [
            Problem(
                "error",
                "the glob matches both CSV and Parquet files",
                "narrow the glob",
                spec.name,
                file=label,
            )
        ], None
    reader = reader_sql(files, spec.csv)
    try:
        columns = file_columns(con, reader)
    except duckdb.Error as exc:
        unicode = "unicode" in str(exc).lower() or "utf" in str(exc).lower()
        return [
            Problem(
                "error",
                f"cannot read the file: {str(exc).splitlines()[0]}",
                f"the file is not UTF-8: set tables.{spec.name}.formats.csv.encoding (e.g. latin-1)"
                if unicode
                else "check it is a valid CSV/Parquet; for CSV set formats.csv options (delim, quote, encoding)",
                spec.name,
                file=label,
            )
        ], None
    sources, missing = column_sources(spec, table, columns)
    problems = []
    for contract_col, wanted in missing:
        close = difflib.get_close_matches(wanted, list(columns), n=1, cutoff=0.5)
        problems.append(
            Problem(
                "error",
                f"missing column: the mapping fills {contract_col} from {wanted!r}, which the file does not have "
                f"(it has: {', '.join(columns)})",
                f"set tables.{spec.name}.columns.{contract_col} to one of the file's columns"
                + (f" (did you mean {close[0]!r}?)" if close else ""),
                spec.name,
                contract_col,
                label,
            )
        )
    mapped = {s.contract.name for s in sources} | {c for c, _ in missing}
    for name in table.required_columns:
        if name not in mapped:
            dtype = table.column(name).data_type
            problems.append(
                Problem(
                    "error",
                    f"required column {name} ({dtype}) has no source: the mapping does not fill it and the file "
                    f"has no column of that name (it has: {', '.join(columns)})",
                    f"add `{name}: <your column>` (or {{sql: ...}}) under tables.{spec.name}.columns",
                    spec.name,
                    name,
                    label,
                )
            )
    good = []
    for s in sources:
        try:
            con.execute(f"describe select {s.raw_sql} from {reader}")
            good.append(s)
        except duckdb.Error as exc:
            problems.append(
                Problem(
                    "error",
                    f"the sql expression does not run: {str(exc).splitlines()[0]}",
                    f"fix tables.{spec.name}.columns.{s.contract.name}.sql (DuckDB SQL over the file's columns: "
                    f"{', '.join(columns)})",
                    spec.name,
                    s.contract.name,
                    label,
                )
            )
    if not good:
        return problems, None
    select_sql, types = mapped_select(con, reader, good)
    out = out_dir / f"{spec.name}.parquet"
    try:  # written first, so the checks below scan the columnar copy, not the CSV, once per column
        n_rows = write_table(con, select_sql, out)
    except duckdb.Error as exc:
        return problems + [
            Problem(
                "error",
                f"cannot read every row: {str(exc).splitlines()[0]}",
                "fix the export, or set formats.csv options (quote, escape, delim, null_padding for short rows)",
                spec.name,
                file=label,
            )
        ], None
    written = f"select * from read_parquet({literal(out)})"
    if n_rows == 0:
        problems.append(
            Problem(
                "error" if table.required else "warning",
                "empty table: the file has no rows"
                + ("" if table.required else "; its features will be off"),
                "export the rows (check the export's date filter)" if table.required else "",
                spec.name,
                file=label,
            )
        )
    else:
        problems += _value_problems(con, spec, written, good, types, n_rows, label)
        problems += _date_range(con, spec, written, label)
    return problems, None if any(p.level == "error" for p in problems) else n_rows


def _dbt_message(exc: Exception) -> str:
    """The useful part of a dbt failure (the compiler error's own text)."""
    text = str(exc)
    match = re.search(r"(Too little history.*?|Required raw table.*?|Raw table .*?)(?:\n|$)", text, re.S)
    return (match.group(1) if match else text).strip()


def _staging_pass(result: CheckResult, work_dir: Path, dbt_vars: dict[str, Any]) -> None:
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
        row = con.execute(
            """
            select min(snapshot_date) filter (where split = 'train'), max(snapshot_date) filter (where split = 'train'),
                   count(*) filter (where split = 'train'), max(eval_snapshot_date),
                   max(snapshot_date) filter (where is_as_of)
            from intermediate.int_snapshot_spine
            """
        ).fetchone()
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
        _staging_pass(result, work_dir, mapping.dbt_vars(dbt_vars))
    elif staging:
        result.problems.append(
            Problem(
                "info", "quarantine shares and the history check run once the required tables read cleanly"
            )
        )
    return result


def remove_work(work_dir: Path) -> None:
    shutil.rmtree(work_dir, ignore_errors=True)
