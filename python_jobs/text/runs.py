"""The tally of every enrichment build: to dbt's log (stdout and logs/dbt.log) and to a warehouse table.

`RunLog` is created by each dbt Python model in models/enrichment (its `session` and `dbt.this`); the enrichment
entry points (enrich.py) hand it their `Tally` when they finish. It appends one row per model per build to
`<enrichment schema>.enrichment_runs` (created on first use) and fires a dbt event, a warning when rows failed.
The generic test `enrichment_failure_share` (macros/tests) reads the latest row per model.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import duckdb

from python_jobs.text.tally import Tally

log = logging.getLogger(__name__)
WRITE_ATTEMPTS = 5

TABLE = "enrichment_runs"
# (column, DuckDB type, Tally attribute or None for the ones filled here)
COLUMNS: tuple[tuple[str, str, str | None], ...] = (
    ("run_id", "varchar", None),
    ("invocation_id", "varchar", None),
    ("model_name", "varchar", None),
    ("llm_model", "varchar", None),
    ("started_at", "timestamp", None),
    ("finished_at", "timestamp", None),
    ("source_rows", "bigint", None),
    ("rows_considered", "bigint", "total"),
    ("texts_considered", "bigint", "unique"),
    ("texts_cached", "bigint", "cached"),
    ("texts_sent", "bigint", "sent"),
    ("rows_ok", "bigint", "tagged"),
    ("texts_ok", "bigint", "texts_tagged"),
    ("rows_failed", "bigint", "failed"),
    ("texts_failed", "bigint", "texts_failed"),
    ("rows_quarantined", "bigint", "quarantined"),
    ("texts_quarantined", "bigint", "texts_quarantined"),
    ("rows_over_budget", "bigint", "over_budget"),
    ("texts_over_budget", "bigint", "texts_over_budget"),
    ("rows_attempted", "bigint", "attempted"),
    ("rows_attempt_failed", "bigint", "attempt_failed"),
    ("rows_kept_previous", "bigint", "kept_previous"),
    ("rows_without_result", "bigint", "without_result"),
    ("requests", "bigint", "requests"),
    ("retries", "bigint", "retries"),
    ("input_tokens", "bigint", "input_tokens"),
    ("output_tokens", "bigint", "output_tokens"),
)


def _ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _invocation_id() -> str | None:
    try:
        from dbt_common.invocation import get_invocation_id
    except ImportError:
        return None
    return get_invocation_id()


def dbt_log(message: str, warn: bool = False) -> None:
    """A line in dbt's output and logs/dbt.log (an adapter event); plain `logging` outside dbt."""
    try:
        from dbt.adapters.events.logging import AdapterLogger
    except ImportError:
        log.log(logging.WARNING if warn else logging.INFO, message)
        return
    logger = AdapterLogger("enrichment")
    (logger.warning if warn else logger.info)(message)


class RunLog:
    """One model's build: call `finish(tally, llm_model, source_rows)` once the rows are enriched."""

    def __init__(self, session: Any, this: Any) -> None:
        self.session = session
        self.database = getattr(this, "database", None)
        self.schema = getattr(this, "schema", None)
        self.model_name = getattr(this, "identifier", None) or str(this)
        self.started_at = _now()

    @property
    def table(self) -> str:
        parts = [p for p in (self.database, self.schema) if p]
        return ".".join(_ident(p) for p in [*parts, TABLE])

    def finish(self, tally: Tally, llm_model: str, source_rows: int) -> dict[str, Any]:
        row: dict[str, Any] = {
            "run_id": uuid.uuid4().hex,
            "invocation_id": _invocation_id(),
            "model_name": self.model_name,
            "llm_model": llm_model,
            "started_at": self.started_at,
            "finished_at": _now(),
            "source_rows": source_rows,
        }
        row |= {name: int(getattr(tally, attr)) for name, _, attr in COLUMNS if attr}
        trouble = tally.failed or tally.quarantined or tally.without_result
        dbt_log(
            f"{self.model_name} ({llm_model}): {tally.line()}; "
            f"failure share {tally.failure_share:.1%} of {tally.attempted:,} rows tried",
            warn=bool(trouble),
        )
        self._write(row)
        return row

    def _write(self, row: dict[str, Any]) -> None:
        """Append the row, creating or widening the table first. No Python lock is held around these statements:
        a commit can checkpoint, which waits for other threads' open transactions, and a thread waiting for a
        Python lock held by that commit never ends its transaction (a deadlock seen in a 1M build). Two
        threads creating the table at once conflict instead, and the loser retries."""
        if self.session is None:
            return
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                self._ensure_table()
                break
            except duckdb.Error as exc:  # a write-write conflict with the other model creating the table
                if attempt == WRITE_ATTEMPTS:
                    raise
                log.debug("enrichment_runs: %s; retrying", exc)
                time.sleep(0.05 * attempt)
        names = [c for c, _, _ in COLUMNS]
        self.session.execute(
            f"insert into {self.table} ({', '.join(_ident(c) for c in names)}) "
            f"values ({', '.join('?' for _ in names)})",
            [row[c] for c in names],
        ).fetchall()

    def _ensure_table(self) -> None:
        ddl = ", ".join(f"{_ident(c)} {t}" for c, t, _ in COLUMNS)
        self.session.execute(f"create table if not exists {self.table} ({ddl})").fetchall()
        have = {
            r[0]
            for r in self.session.execute(
                "select column_name from information_schema.columns where table_name = ?"
                " and table_schema = coalesce(?, current_schema())"
                " and table_catalog = coalesce(?, current_database())",
                [TABLE, self.schema, self.database],
            ).fetchall()
        }
        for column, kind, _ in COLUMNS:  # a table written by an older version gains the new columns
            if column not in have:
                self.session.execute(
                    f"alter table {self.table} add column {_ident(column)} {kind}"
                ).fetchall()
