"""Per-column checks on the contract-shaped copy of a table: text in number or date columns (with the date
formats that would parse it) and the date range of the table's event column."""

from __future__ import annotations

import duckdb

from python_jobs.mapping.materialize import ColumnSource, literal, quote
from python_jobs.mapping.problems import Problem
from python_jobs.mapping.spec import TableSpec
from python_jobs.warehouse import first_row

# The column whose range is the data's history (the snapshot spine is built from it).
EVENT_COLUMNS = {"orders": "ordered_at", "transactions": "invoiced_at"}
DATE_FORMATS = (
    "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S", "%d/%m/%Y %H:%M:%S.%f",
    "%m/%d/%Y %H:%M:%S.%f", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M:%S.%f",
    "%d.%m.%Y", "%d-%m-%Y %H:%M", "%d-%m-%Y", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%m/%d/%Y %I:%M %p", "%d %b %Y",
    "%d %B %Y", "%b %d, %Y", "%Y%m%d",
)  # fmt: skip


def suggest_date_formats(con: duckdb.DuckDBPyConnection, select_sql: str, column: str) -> list[str]:
    """Formats from DATE_FORMATS that parse every one of 200 randomly sampled non-empty values (several when
    day and month cannot be told apart)."""
    sample = (
        f"select {quote(column)} as v from ({select_sql}) where {quote(column)} is not null "
        "using sample reservoir(200 rows) repeatable (1)"
    )
    found = []
    for fmt in DATE_FORMATS:
        ok = first_row(
            con.execute(
                f"select count(*) > 0 and bool_and(try_strptime(v, {literal(fmt)}) is not null) from ({sample})"
            )
        )[0]
        if ok:
            found.append(fmt)
    return found


def value_problems(
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
        # Text is staged as it is, and a value already of the contract's type always casts (the scans of the
        # sessions' typed columns at 1M customers took 8.1 s and could find nothing).
        if col.data_type.lower() == "varchar" or types[col.name].upper() == col.data_type.upper():
            continue
        ident = quote(col.name)
        try:
            nonnull, bad, examples = first_row(
                con.execute(
                    f"select count({ident}), count(*) filter (where {ident} is not null and "
                    f"try_cast({ident} as {col.data_type}) is null), "
                    f"array_slice(list(distinct cast({ident} as varchar)) filter (where {ident} is not null and "
                    f"try_cast({ident} as {col.data_type}) is null), 1, 3) from ({select_sql})"
                )
            )
        except duckdb.Error:
            nonnull, bad, examples = n_rows, n_rows, []
        if not bad:
            continue
        shown = ", ".join(repr(e) for e in (examples or [])[:3])
        kind = "date" if col.is_timestamp else "number" if col.is_number else col.data_type
        if col.is_timestamp:
            fmts = (
                suggest_date_formats(con, select_sql, col.name)
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


def date_range(
    con: duckdb.DuckDBPyConnection, spec: TableSpec, select_sql: str, file_label: str
) -> list[Problem]:
    column = EVENT_COLUMNS.get(spec.name)
    if column is None:
        return []
    ident = f"try_cast({quote(column)} as timestamp)"
    try:
        first, last, future, ancient = first_row(
            con.execute(
                f"select cast(min({ident}) as date), cast(max({ident}) as date), "
                f"count(*) filter (where {ident} > current_date + 1), "
                f"count(*) filter (where {ident} < date '1990-01-01') from ({select_sql})"
            )
        )
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
