"""Read a user's files through a mapping with DuckDB and write contract-shaped Parquet for staging.

Nothing is filtered or repaired here: every raw row is written, and a value that a format hint cannot convert is
passed on as it was, so staging quarantines the row with its reason (unparseable_value names the column).
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

import duckdb

from python_jobs.mapping.spec import ContractColumn, ContractTable, Mapping, TableSpec
from python_jobs.warehouse import first_row

FLOAT_TYPES = ("FLOAT", "DOUBLE", "DECIMAL", "REAL")


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def resolve_files(spec: TableSpec, raw_path: Path) -> list[Path]:
    """The files a table's `file` (a name or glob, relative to raw_path unless absolute) matches, sorted."""
    pattern = Path(spec.file).expanduser()
    if not pattern.is_absolute():
        pattern = raw_path / pattern
    return sorted(Path(p) for p in glob.glob(str(pattern)) if Path(p).is_file())


def file_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt") or path.name.lower().endswith((".csv.gz", ".tsv.gz")):
        return "csv"
    if suffix in (".xlsx", ".xls"):
        return "excel"
    return "parquet"


def reader_sql(files: list[Path], csv_options: dict | None = None) -> str:
    """A DuckDB table function over the files: Parquet typed as stored, CSV read as text (staging casts)."""
    paths = "[" + ", ".join(literal(p) for p in files) + "]"
    if file_kind(files[0]) == "csv":
        options = {"header": True, "union_by_name": True, **(csv_options or {}), "all_varchar": True}
        opts = ", ".join(
            f"{k} = {literal(v) if isinstance(v, str) else str(v).lower()}" for k, v in options.items()
        )
        return f"read_csv({paths}, {opts})"
    return f"read_parquet({paths}, union_by_name = true)"


def file_columns(con: duckdb.DuckDBPyConnection, reader: str) -> dict[str, str]:
    """Column name -> DuckDB type of the files."""
    return {row[0]: row[1] for row in con.execute(f"describe select * from {reader}").fetchall()}


def _match(name: str, columns: dict[str, str]) -> str | None:
    """The file column called `name`, exactly or ignoring case and surrounding spaces."""
    if name in columns:
        return name
    key = name.strip().lower()
    return next((c for c in columns if c.strip().lower() == key), None)


@dataclass(frozen=True)
class ColumnSource:
    """Where one contract column comes from in the file: the SQL over the raw relation and what it names."""

    contract: ContractColumn
    raw_sql: str
    described: str  # "column X" or "sql: ..." for messages
    formats: dict


def column_sources(
    spec: TableSpec, table: ContractTable, columns: dict[str, str]
) -> tuple[list[ColumnSource], list[tuple[str, str]]]:
    """(sources of the mapped or same-named columns, [(contract column, missing file column)])."""
    found: list[ColumnSource] = []
    missing: list[tuple[str, str]] = []
    for col in table.columns:
        mapped = spec.columns.get(col.name)
        formats = spec.formats | (mapped.formats if mapped else {})
        if mapped and mapped.sql:
            found.append(ColumnSource(col, f"({mapped.sql})", f"sql: {mapped.sql}", formats))
            continue
        wanted = mapped.column if mapped else col.name
        actual = _match(wanted, columns)
        if actual is not None:
            found.append(ColumnSource(col, quote(actual), f"column {actual!r}", formats))
        elif mapped:
            missing.append((col.name, wanted))
    return found, missing


def convert_sql(col: ContractColumn, source_type: str, formats: dict) -> str:
    """SQL turning the raw value (column named like the contract column) into what staging casts.

    Text dates are parsed with date_format (one format or a list) and written as ISO text; numbers in text lose
    currency_symbol and thousands separators and get '.' as the decimal mark; float ids (17850.0) become 17850.
    A value that does not convert stays as it was, so staging quarantines its row as unparseable_value.
    """
    ident = quote(col.name)
    if source_type.upper().startswith("VARCHAR"):
        value = base = f"nullif(trim({ident}), '')"
        if col.is_timestamp and formats.get("date_format"):
            fmts = formats["date_format"]
            fmt_list = "[" + ", ".join(literal(f) for f in (fmts if isinstance(fmts, list) else [fmts])) + "]"
            return f"coalesce(strftime(try_strptime({base}, {fmt_list}), '%Y-%m-%d %H:%M:%S.%f'), {base})"
        if col.is_number:
            for key in ("currency_symbol", "thousands"):
                if formats.get(key):
                    value = f"replace({value}, {literal(formats[key])}, '')"
            if formats.get("decimal") and formats["decimal"] != ".":
                value = f"replace({value}, {literal(formats['decimal'])}, '.')"
            return value if value == base else f"trim({value})"
        if col.data_type.lower() == "varchar" and col.name.endswith("_id"):
            return f"regexp_replace({base}, '^(-?[0-9]+)\\.0+$', '\\1')"
        return base
    if col.data_type.lower() == "varchar" and source_type.upper().startswith(FLOAT_TYPES):
        return (
            f"case when {ident} = trunc({ident}) then cast(cast({ident} as bigint) as varchar) "
            f"else cast({ident} as varchar) end"
        )
    return ident


def mapped_select(
    con: duckdb.DuckDBPyConnection, reader: str, sources: list[ColumnSource]
) -> tuple[str, dict[str, str]]:
    """(SQL of the contract-shaped relation, contract column -> type of its raw value)."""
    raw = ", ".join(f"{s.raw_sql} as {quote(s.contract.name)}" for s in sources)
    raw_select = f"select {raw} from {reader}"
    types = {row[0]: row[1] for row in con.execute(f"describe {raw_select}").fetchall()}
    converted = ", ".join(
        f"{convert_sql(s.contract, types[s.contract.name], s.formats)} as {quote(s.contract.name)}"
        for s in sources
    )
    return f"select {converted} from ({raw_select})", types


def write_table(con: duckdb.DuckDBPyConnection, select_sql: str, out: Path) -> int:
    """Write the relation as Parquet (via a temporary name, then renamed); returns the rows written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    con.execute(f"copy ({select_sql}) to {literal(tmp)} (format parquet)")
    tmp.replace(out)
    return first_row(con.execute(f"select count(*) from read_parquet({literal(out)})"))[0]


def clear_raw_dir(out_dir: Path, mapping: Mapping) -> None:
    """Remove contract files of tables the mapping no longer provides (a stale file would still be read)."""
    for name in mapping.contract:
        if name not in mapping.tables:
            (out_dir / f"{name}.parquet").unlink(missing_ok=True)
