"""DuckDB warehouse I/O for jobs that run outside dbt (CLI, report, benchmarks). Arrow in, Arrow out."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from python_jobs import config
from python_jobs.progress import announce


@contextmanager
def connect(path: Path | None = None, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse and always close it, so dbt's next run is not locked out."""
    db = Path(path) if path else config.duckdb_path()
    if read_only and not db.exists():
        raise FileNotFoundError(f"No warehouse at {db}. Run `make demo` (or `dbt build`) first.")
    con = duckdb.connect(str(db), read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    row = first_row(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, name],
        )
    )
    return bool(row and row[0])


def schema_of(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """The schema holding table `name` (tables written outside dbt, e.g. enrichment_runs), or None."""
    row = first_row(
        con.execute("select table_schema from information_schema.tables where table_name = ? limit 1", [name])
    )
    return row[0] if row else None


def without_bookkeeping(relation: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """The relation without the incremental marts' `inputs_fingerprint` (how a row was built, not what it holds):
    it must not enter a model's data fingerprint, so a code change upstream alone does not retrain or recluster."""
    if "inputs_fingerprint" not in relation.columns:
        return relation
    return relation.project("* exclude (inputs_fingerprint)")


def previous_table(session: duckdb.DuckDBPyConnection, this: object) -> duckdb.DuckDBPyRelation | None:
    """The last build's version of the model `this` names, as a relation of the model's session, or None on its
    first build. dbt-duckdb's session and the engine jobs' local session (engines/steps.py) are both DuckDB."""
    try:
        return session.sql(f"select * from {this}")
    except duckdb.CatalogException:
        return None


def only_row(relation: duckdb.DuckDBPyRelation) -> tuple:
    """The one row of an aggregate relation."""
    (row,) = relation.fetchall()
    return row


def first_row(result: duckdb.DuckDBPyConnection | duckdb.DuckDBPyRelation) -> tuple | None:
    """The first row of a query's result (None when it has none), read to the end. Never `fetchone()` a DuckDB
    result: an unfinished result holds its connection, so DuckDB 2.0 refuses the next relation, register or
    Arrow read on it, and in 1.x a later commit that checkpoints waited for it forever (a forced rebuild at 1M
    customers hung there). Meant for aggregates and one-row queries: the whole result is read."""
    rows = result.fetchall()
    return rows[0] if rows else None


_UNITS = {"": 1, "b": 1, "bytes": 1, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_UNITS |= {"kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}


def size_bytes(text: str) -> float:
    """Bytes of a DuckDB size such as '4.6 GiB' or '1GB' (the forms SET memory_limit takes and shows)."""
    match = re.fullmatch(r"\s*([\d.]+)\s*([A-Za-z]*)\s*", text)
    unit = match.group(2).lower() if match else ""
    if not match or unit not in _UNITS:
        raise ValueError(f"not a DuckDB memory size: {text!r} (write e.g. 1GB or 512MB)")
    return float(match.group(1)) * _UNITS[unit]


@contextmanager
def memory_limit_lowered(
    session: duckdb.DuckDBPyConnection | None, limit: str | None, configured: str | None
) -> Iterator[Callable[[], None]]:
    """Hold the session's DuckDB to `limit` while the block runs, then set back `configured`: the memory_limit the
    session was opened with (the dbt profile's setting), or DuckDB's default when it names none. DuckDB shows its
    limit only rounded down to 0.1 of a unit, so the limit it had cannot be read back exactly.

    DuckDB keeps blocks of the tables it read cached up to its memory_limit and frees them only when a query needs
    the room; lowering the limit evicts them at once and the memory goes back to the OS. A Python step that needs
    memory of its own (the churn fit) then does not stack on a full cache. No-op without a session or `limit`, or
    when `limit` is not below the current one.

    The block gets a function that gives back what DuckDB freed since (setting the limit again flushes its
    allocators): a query under the lowered limit leaves its freed buffers resident otherwise (the churn fit's
    read of 983k training rows at 1M: 0.75 GiB, gone after the flush)."""
    before = (
        first_row(session.execute("select current_setting('memory_limit')"))[0] if session and limit else None
    )
    if before is None or size_bytes(limit) >= size_bytes(before):
        yield lambda: None
        return

    def hold() -> None:  # also the block's flush: setting the limit again flushes DuckDB's allocators
        session.execute(f"set memory_limit = '{limit}'")

    try:
        hold()
    except duckdb.Error as err:  # memory pinned by a query running beside this one: go on with the cache
        announce(f"could not lower DuckDB's memory_limit to {limit} ({err}); keeping {before}")
        yield lambda: None
        return
    try:
        yield hold
    finally:
        session.execute(f"set memory_limit = '{configured}'" if configured else "reset memory_limit")
