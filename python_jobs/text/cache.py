"""The response cache: tags, quarantined texts and embeddings keyed by (content hash, model id, version).

It is a SQLite file outside the dbt warehouse (var `llm_cache_path`, env CHURN_LLM_CACHE), so
`dbt build --full-refresh` never pays for the same text twice. SQLite in WAL mode lets several dbt threads
and a `churn enrich` backfill write to it at once; every write commits, so a crash loses at most the
request in flight.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

_SCHEMA = """
create table if not exists tags (
    content_hash text not null, model_id text not null, version text not null,
    tags_json text not null, created_at text not null,
    primary key (content_hash, model_id, version)
);
create table if not exists quarantine (
    content_hash text not null, model_id text not null, version text not null,
    reason text not null, raw_output text, created_at text not null, attempts integer not null default 1,
    primary key (content_hash, model_id, version)
);
create table if not exists embeddings (
    content_hash text not null, model_id text not null, version text not null,
    dim integer not null, vector blob not null, created_at text not null,
    primary key (content_hash, model_id, version)
);
"""
_CHUNK = 900  # stay under SQLite's host-parameter limit
OPEN_TIMEOUT_S = 60.0  # how long a step waits for another writer of the cache
OPEN_RETRY_S = 0.1


def _is_busy(error: sqlite3.OperationalError) -> bool:
    message = str(error).lower()
    return "locked" in message or "busy" in message


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class LLMCache:
    """Thread-safe key-value store over one SQLite file."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._con = sqlite3.connect(str(self.path), check_same_thread=False, timeout=OPEN_TIMEOUT_S)
        deadline = time.monotonic() + OPEN_TIMEOUT_S
        while True:
            try:
                self._prepare()
                return
            except sqlite3.OperationalError as error:
                # Opening a WAL file while another connection (a dbt thread's tag or embedding step) closes it
                # and checkpoints can fail at once, without SQLite's busy wait: seen as "database is locked"
                # in a build. Wait and try again, as the busy timeout would.
                if not _is_busy(error) or time.monotonic() > deadline:
                    self._con.close()
                    raise
                self._con.rollback()
                time.sleep(OPEN_RETRY_S)

    def _prepare(self) -> None:
        self._con.execute("pragma journal_mode=wal")
        self._con.execute("pragma synchronous=normal")
        self._con.executescript(_SCHEMA)
        columns = {row[1] for row in self._con.execute("pragma table_info(quarantine)")}
        if "attempts" not in columns:  # a cache written before quarantined texts were retried
            self._con.execute("alter table quarantine add column attempts integer not null default 1")
        self._con.commit()

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def __enter__(self) -> LLMCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _select(
        self, table: str, cols: str, hashes: Sequence[str], model_id: str, version: str
    ) -> list[tuple]:
        rows: list[tuple] = []
        unique = list(dict.fromkeys(hashes))
        with self._lock:
            for i in range(0, len(unique), _CHUNK):
                chunk = unique[i : i + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows += self._con.execute(
                    f"select content_hash, {cols} from {table} "
                    f"where model_id = ? and version = ? and content_hash in ({marks})",
                    [model_id, version, *chunk],
                ).fetchall()
        return rows

    def get_tags(self, hashes: Sequence[str], model_id: str, version: str) -> dict[str, dict[str, Any]]:
        return {h: json.loads(t) for h, t in self._select("tags", "tags_json", hashes, model_id, version)}

    def get_quarantine(self, hashes: Sequence[str], model_id: str, version: str) -> dict[str, str]:
        return dict(self._select("quarantine", "reason", hashes, model_id, version))

    def get_quarantine_attempts(
        self, hashes: Sequence[str], model_id: str, version: str
    ) -> dict[str, tuple[str, int]]:
        """hash -> (reason, how many runs quarantined it)."""
        rows = self._select("quarantine", "reason, attempts", hashes, model_id, version)
        return {h: (r, int(n)) for h, r, n in rows}

    def put_tags(self, rows: Iterable[tuple[str, dict[str, Any]]], model_id: str, version: str) -> None:
        now = _now()
        data = [(h, model_id, version, json.dumps(t, ensure_ascii=False), now) for h, t in rows]
        if not data:
            return
        with self._lock:
            self._con.executemany("insert or replace into tags values (?, ?, ?, ?, ?)", data)
            quarantined = self._con.execute(
                "select 1 from quarantine where model_id = ? and version = ? limit 1", [model_id, version]
            ).fetchone()
            if quarantined:  # a text tagged now leaves quarantine
                self._con.executemany(
                    "delete from quarantine where content_hash = ? and model_id = ? and version = ?",
                    [d[:3] for d in data],
                )
            self._con.commit()

    def put_quarantine(
        self, rows: Iterable[tuple[str, str, str | None]], model_id: str, version: str
    ) -> None:
        """Quarantine texts (again): a text quarantined before counts one more attempt."""
        now = _now()
        data = [(h, model_id, version, reason, (raw or "")[:2000], now) for h, reason, raw in rows]
        if not data:
            return
        with self._lock:
            self._con.executemany(
                "insert into quarantine (content_hash, model_id, version, reason, raw_output, created_at, attempts)"
                " values (?, ?, ?, ?, ?, ?, 1) on conflict (content_hash, model_id, version) do update set"
                " reason = excluded.reason, raw_output = excluded.raw_output, created_at = excluded.created_at,"
                " attempts = quarantine.attempts + 1",
                data,
            )
            self._con.commit()

    def clear_quarantine(self, model_id: str, version: str) -> int:
        with self._lock:
            cur = self._con.execute(
                "delete from quarantine where model_id = ? and version = ?", [model_id, version]
            )
            self._con.commit()
            return cur.rowcount

    def embedded_dims(self, hashes: Sequence[str], model_id: str, version: str) -> dict[str, int]:
        """hash -> embedding size, for the hashes whose embedding is cached (the vectors are not read)."""
        return dict(self._select("embeddings", "dim", hashes, model_id, version))

    def get_embeddings(self, hashes: Sequence[str], model_id: str, version: str) -> dict[str, np.ndarray]:
        return {
            h: np.frombuffer(blob, dtype="<f4")
            for h, _, blob in self._select("embeddings", "dim, vector", hashes, model_id, version)
        }

    def put_embeddings(self, hashes: Sequence[str], vectors: np.ndarray, model_id: str, version: str) -> None:
        now = _now()
        vectors = np.ascontiguousarray(vectors, dtype="<f4")
        data = [
            (h, model_id, version, int(vectors.shape[1]), vectors[i].tobytes(), now)
            for i, h in enumerate(hashes)
        ]
        with self._lock:
            self._con.executemany("insert or replace into embeddings values (?, ?, ?, ?, ?, ?)", data)
            self._con.commit()

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {
                t: self._con.execute(f"select count(*) from {t}").fetchone()[0]
                for t in ("tags", "quarantine", "embeddings")
            }
