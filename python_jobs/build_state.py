"""Skip a build whose inputs did not change since the published warehouse was built (state-aware builds).

Every table of a DuckDB build is a function of its inputs: the raw files, the project (dbt models, macros,
seeds and tests, the python_jobs code, dbt_project.yml and profiles.yml), the installed versions of the
libraries that compute, the dbt vars and the CHURN_* settings, and today's date while staging quarantines rows
as future-dated (the date can only free such rows). A complete build stores a fingerprint of each input in
the warehouse it publishes (table main.churn_build_state); the next plain `churn build` compares and, when
nothing differs and the last build left no text waiting for a retry, runs nothing at all. Raw files are
hashed by content, not by timestamp, so an export rewritten with the same rows still counts as unchanged.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb

from python_jobs import config, warehouse
from python_jobs.text.runs import TABLE as RUNS_TABLE
from python_jobs.warehouse import first_row

TABLE = "churn_build_state"  # in schema main of the DuckDB warehouse
PROJECT_PATHS = ("models", "macros", "seeds", "tests/dbt", "python_jobs", "dbt_project.yml", "profiles.yml")
LIBRARIES = ("dbt-core", "dbt-duckdb", "duckdb", "pyarrow", "pandas", "numpy", "scipy", "scikit-learn", "llm")
# Settings that say where or how fast a build runs, not what it computes (the raw files are hashed instead of
# their folder's name; the LLM cache only saves calls).
NEUTRAL_SETTINGS = frozenset(
    {
        "CHURN_DUCKDB_PATH",
        "CHURN_DUCKDB_MEMORY",
        "CHURN_DUCKDB_THREADS",
        "CHURN_LLM_CACHE",
        "CHURN_RAW_PATH",
        "CHURN_REPORT_PATH",
        "CHURN_SCORE_PROCESSES",
        "CHURN_SPARE_WAREHOUSE",
        "CHURN_TAG_PROCESSES",
        "CHURN_TARGET",
    }
)
TODAY = "today"


def _digest(chunks: Iterable[bytes]) -> str:
    h = hashlib.blake2b(digest_size=16)
    for chunk in chunks:
        h.update(chunk)
    return h.hexdigest()


def file_digest(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, lambda: hashlib.blake2b(digest_size=16)).hexdigest()


def file_digests(files: list[Path]) -> list[str]:
    """The content hash of each file, in order; hashed on two threads (hashlib frees the GIL)."""
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(file_digest, files))


def raw_parts(raw: Path) -> dict[str, str]:
    """One part per raw file (relative path -> content hash)."""
    if not raw.is_dir():
        return {"raw:": "absent"}
    files = sorted(p for p in raw.rglob("*") if p.is_file() and not p.name.startswith("."))
    return {
        f"raw:{p.relative_to(raw).as_posix()}": d for p, d in zip(files, file_digests(files), strict=True)
    }


def project_part(root: Path = config.REPO_ROOT) -> str:
    files = []
    for rel in PROJECT_PATHS:
        path = root / rel
        files += [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    files = [p for p in files if "__pycache__" not in p.parts and p.suffix != ".pyc"]
    return _digest(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes() for p in files)


def library_part() -> str:
    versions = [f"python {sys.version_info[:3]}"]
    for name in LIBRARIES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} absent")
    return _digest(v.encode() + b"\0" for v in versions)


def current_parts(vars: Mapping[str, Any], env: Mapping[str, str], dated: bool) -> dict[str, str]:
    """The fingerprint of everything a build would read now, part by part."""
    parts = raw_parts(config.raw_path(vars, env))
    parts["project"] = project_part()
    parts["libraries"] = library_part()
    parts["vars"] = json.dumps(dict(vars), sort_keys=True, default=str)
    parts |= {
        f"setting:{k}": v
        for k, v in sorted(env.items())
        if k.startswith("CHURN_") and k not in NEUTRAL_SETTINGS
    }
    if dated:
        parts[TODAY] = str(first_row(duckdb.sql("select current_date"))[0])
    return parts


@dataclass(frozen=True)
class Decision:
    skip: bool
    why: str  # one sentence for the build's output


def stored(db: Path) -> tuple[dict[str, str], datetime] | None:
    """The fingerprint the published warehouse was built from, or None (first build, partial or failed one)."""
    if not db.exists():
        return None
    with warehouse.connect(db) as con:
        if not warehouse.table_exists(con, "main", TABLE):
            return None
        row = first_row(con.execute(f"select parts, built_at from main.{TABLE}"))
    return (json.loads(row[0]), row[1]) if row else None


def texts_to_retry(db: Path) -> int:
    """Rows the last build's enrichment left untagged for a reason a new run can fix (errors, the budget)."""
    with warehouse.connect(db) as con:
        schema = warehouse.schema_of(con, RUNS_TABLE)
        if schema is None:
            return 0
        row = first_row(
            con.execute(
                f"""select coalesce(sum(coalesce(rows_failed, 0) + coalesce(rows_over_budget, 0)), 0) from (
                    select * from "{schema}".{RUNS_TABLE}
                    qualify row_number() over (partition by model_name order by finished_at desc) = 1)"""
            )
        )
    return int(row[0]) if row else 0


def describe_changes(before: Mapping[str, str], now: Mapping[str, str]) -> str:
    changed = sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k))
    raw = [k.removeprefix("raw:") or "the raw folder" for k in changed if k.startswith("raw:")]
    other = [k.removeprefix("setting:") for k in changed if not k.startswith("raw:")]
    said = [f"raw files {', '.join(raw[:5])}{' ...' if len(raw) > 5 else ''}"] if raw else []
    return ", ".join(said + other)


def decide(db: Path, vars: Mapping[str, Any], env: Mapping[str, str]) -> tuple[Decision, dict[str, str]]:
    """Whether a plain build of `db` can be skipped, and the fingerprint to record if it runs."""
    last = stored(db)
    if last is None:
        return Decision(False, "no complete build recorded in the warehouse"), current_parts(vars, env, False)
    before, built_at = last
    now = current_parts(vars, env, dated=TODAY in before)
    if before != now:
        return Decision(False, f"changed since the build of {built_at:%Y-%m-%d %H:%M} UTC: "
                        f"{describe_changes(before, now)}"), now  # fmt: skip
    retry = texts_to_retry(db)
    if retry:
        return Decision(
            False, f"the last build left {retry:,} text rows untagged (errors or budget): retrying"
        ), now
    return Decision(True, f"nothing changed since the build of {built_at:%Y-%m-%d %H:%M} UTC "
                    "(raw files, project, libraries, vars and settings identical)"), now  # fmt: skip


def record(db: Path, parts: Mapping[str, str], vars: Mapping[str, Any]) -> None:
    """Store the fingerprint a complete build used in its (not yet published) warehouse. Every dbt run that
    writes tables drops it first (macros/forget_build_state.sql), so a partial one leaves none."""
    with warehouse.connect(db, read_only=False) as con:
        con.execute(f"drop table if exists main.{TABLE}")
        parts = {k: v for k, v in parts.items() if k != TODAY}  # decided here, from this build's quarantine
        if not vars.get("max_valid_date") and future_dated_rows(con):
            parts[TODAY] = str(first_row(con.execute("select current_date"))[0])
        con.execute(f"create table main.{TABLE} (parts json, built_at timestamp)")
        con.execute(
            f"insert into main.{TABLE} values (?, ?)",
            [json.dumps(parts, sort_keys=True), datetime.now(UTC).replace(tzinfo=None, microsecond=0)],
        )


def future_dated_rows(con: duckdb.DuckDBPyConnection) -> int:
    """Rows staging quarantined as future-dated: the only ones a later date can change."""
    tables = con.execute(
        """select table_schema, table_name from information_schema.tables
           where table_name like 'stg\\_%\\_\\_quarantine' escape '\\'"""
    ).fetchall()
    return sum(
        first_row(con.execute(f'select count(*) from "{s}"."{t}" where reason = \'future_timestamp\''))[0]
        for s, t in tables
    )
