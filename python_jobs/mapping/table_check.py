"""Check one mapped table: find and read its files, match the mapping's columns, write the contract-shaped
Parquet, then run the per-column checks on that copy. A copy whose files and mapping are unchanged since it was
written is reused with its problems (python_jobs/mapping/converted.py)."""

from __future__ import annotations

import difflib
from pathlib import Path

import duckdb

from python_jobs.mapping.converted import conversion_key, forget, remember, reusable
from python_jobs.mapping.materialize import (
    column_sources,
    file_columns,
    file_kind,
    literal,
    mapped_select,
    reader_sql,
    resolve_files,
    write_table,
)
from python_jobs.mapping.problems import Problem
from python_jobs.mapping.spec import ContractTable, Mapping, TableSpec
from python_jobs.mapping.values import date_range, value_problems


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
    out = out_dir / f"{spec.name}.parquet"
    key = conversion_key(spec, table, files)
    known = reusable(out, key)
    if known is not None:  # the copy of these very files through this very mapping: nothing to read again
        problems, n_rows = known
        return problems + dated_problems(con, spec, out, n_rows, label), n_rows
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
        problems += value_problems(con, spec, parquet_select(out), good, types, n_rows, label)
    failed = any(p.level == "error" for p in problems)
    if failed:
        forget(out)
    else:
        remember(out, key, problems, n_rows)
    return problems + dated_problems(con, spec, out, n_rows, label), None if failed else n_rows


def parquet_select(path: Path) -> str:
    return f"select * from read_parquet({literal(path)})"


def dated_problems(
    con: duckdb.DuckDBPyConnection, spec: TableSpec, out: Path, n_rows: int, label: str
) -> list[Problem]:
    """The checks that compare with today's date (run on every check, even on a reused copy)."""
    return date_range(con, spec, parquet_select(out), label) if n_rows else []
