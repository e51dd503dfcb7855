"""Reuse of a table's contract-shaped copy while nothing it was made from changed.

`churn build --mapping` converts every mapped file to contract-shaped Parquet before dbt runs. A nightly export
often repeats tables unchanged (customers, a month's closed files), and a rebuild with no new data repeats them
all: at 1M customers the conversion and its column checks took 23 s (43 s CPU) of a build that otherwise stops
in 2 s. So each converted table keeps a record beside its copy (`.<table>.converted.json`, dot-named: neither the
sources nor the build state read it): a key over the content of its source files, its mapping and contract, the
conversion code and DuckDB's version, the rows written and the problems found. When the key and the copy are
unchanged, the copy and the problems are reused without reading a row. Only the date checks (which compare
with today's date) run again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import duckdb

from python_jobs.build_state import file_digests
from python_jobs.mapping.problems import Problem
from python_jobs.mapping.spec import ContractTable, TableSpec

# The code whose output the record stands for: reading, converting and checking a table.
CODE_FILES = ("materialize.py", "table_check.py", "values.py", "converted.py")


def _code_version() -> str:
    here = Path(__file__).parent
    return hashlib.blake2b(b"".join((here / f).read_bytes() for f in CODE_FILES), digest_size=16).hexdigest()


def conversion_key(spec: TableSpec, table: ContractTable, files: list[Path]) -> str:
    """A hash of all a table's copy and problems depend on, today's date aside: the source files' names and
    contents, the table's mapping and contract, the code and DuckDB's version."""
    parts = {
        "files": [[str(f), d] for f, d in zip(files, file_digests(files), strict=True)],
        "spec": dataclasses.asdict(spec),
        "contract": dataclasses.asdict(table),
        "code": _code_version(),
        "duckdb": duckdb.__version__,
    }
    return hashlib.blake2b(
        json.dumps(parts, sort_keys=True, default=str).encode(), digest_size=16
    ).hexdigest()


def _record_path(copy: Path) -> Path:
    return copy.with_name(f".{copy.stem}.converted.json")


def _stamp(copy: Path) -> list[int]:
    stat = copy.stat()
    return [stat.st_size, stat.st_mtime_ns]


def reusable(copy: Path, key: str) -> tuple[list[Problem], int] | None:
    """(problems, rows) of the copy when its record has this key and the copy is the one it recorded."""
    try:
        record = json.loads(_record_path(copy).read_text(encoding="utf-8"))
        if record["key"] != key or record["copy"] != _stamp(copy):
            return None
        return [Problem(**p) for p in record["problems"]], int(record["rows"])
    except (OSError, ValueError, KeyError, TypeError):  # no record, no copy, or a record of another version
        return None


def remember(copy: Path, key: str, problems: list[Problem], rows: int) -> None:
    """Record the copy just written with its key, rows and problems (written whole, then renamed)."""
    record = {
        "key": key,
        "copy": _stamp(copy),
        "rows": rows,
        "problems": [dataclasses.asdict(p) for p in problems],
    }
    path = _record_path(copy)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record), encoding="utf-8")
    tmp.replace(path)


def forget(copy: Path) -> None:
    _record_path(copy).unlink(missing_ok=True)
