"""Embeddings for many texts with any `llm` embedding model, cached, as a pyarrow FixedSizeList column.

A batch that fails with a transient error is retried with backoff like a tagging request (request.py); a batch
that still fails leaves its texts out (the next run retries them), and after `circuit_breaker` failed batches
in a row nothing more is sent.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np
import pyarrow as pa

from python_jobs import config
from python_jobs.text import registry
from python_jobs.text.cache import LLMCache
from python_jobs.text.calls import is_retryable, scrub
from python_jobs.text.chunked_run import ChunkedRun
from python_jobs.text.redact import REDACTION_VERSION
from python_jobs.text.tally import Tally

log = logging.getLogger(__name__)

OUTPUT_ROWS = 65_536  # rows per batch of embed_texts' output (64 MB of 256-float embeddings)


@dataclass
class EmbedSettings:
    model_id: str = "churn-local-embed"
    cache_path: Path = field(default_factory=config.llm_cache_path)
    batch_size: int = 4096  # texts per embed_multi call and per cache commit
    max_texts: int = 0  # budget for texts sent to the model in this run (0 = no limit)
    max_retries: int = 4  # retries per batch after the first attempt (transient errors only)
    backoff_s: float = 1.0
    circuit_breaker: int = 3  # failed batches in a row after which nothing more is sent (0 = off)
    show_progress: bool = True


def embed_version(model: object) -> str:
    return "|".join(v for v in (REDACTION_VERSION, getattr(model, "version", "")) if v) or "v1"


def fixed_size_list(vectors: np.ndarray) -> pa.FixedSizeListArray:
    """(n, d) float32 -> FixedSizeList<float32, d>, which DuckDB stores as FLOAT[d]."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, d = vectors.shape
    return pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1), pa.float32()), d)


def embed_texts(
    ids: Sequence[str],
    texts: Sequence[str | None],
    settings: EmbedSettings,
    tally: Tally | None = None,
    status: list[str] | None = None,
) -> pa.RecordBatchReader:
    """One row per input id embedded: row_index (input position), text_id, content_hash, embedding_model,
    embedding; as a reader of OUTPUT_ROWS-row batches (`.read_all()` for a table).

    Texts not embedded because of the budget or a failure are left out (the next run picks them up). `tally`,
    when given, receives the counts (`tagged` meaning embedded); `status`, when given, is extended with one
    entry per input: ok | failed | over_budget. Every text is embedded and in the cache (the tally and status
    complete) when this returns; the reader reads each batch's vectors back from the cache (`read_back`).
    """
    with EmbedRun(settings, tally, total_rows=len(ids)) as run:
        hashes, outcome = run.embed(texts)
    if status is not None:
        status.extend(outcome)
    keep = [i for i, o in enumerate(outcome) if o == "ok"]
    schema = pa.schema(
        [
            ("row_index", pa.int64()),
            ("text_id", pa.string()),
            ("content_hash", pa.string()),
            ("embedding_model", pa.string()),
            ("embedding", pa.list_(pa.float32(), run.dim)),
        ]
    )
    kept_hashes = pa.array([hashes[i] for i in keep], pa.string())

    def batches() -> Iterator[pa.RecordBatch]:
        for start, vectors in run.read_back(kept_hashes):
            part = keep[start : start + len(vectors)]
            columns = [
                pa.array(part, pa.int64()),
                pa.array([str(ids[i]) for i in part], pa.string()),
                kept_hashes.slice(start, len(part)),
                pa.array([settings.model_id] * len(part), pa.string()),
                vectors,
            ]
            yield pa.RecordBatch.from_arrays(columns, schema=schema)

    return pa.RecordBatchReader.from_batches(schema, batches())


class EmbedRun(ChunkedRun):
    """One embedding run over texts handed in chunks (`embed`), so a caller streaming a million rows holds one
    chunk's texts at a time: every embedding goes to the response cache, none is held, and `read_back` reads
    them back in output batches (1.3M x 256 floats: 1.3 GB at 1M customers). A text repeated in a later chunk
    is not sent again (cached, or failed earlier in the run) and is counted once. Open it with `with`."""

    def __init__(self, settings: EmbedSettings, tally: Tally | None = None, total_rows: int = 0) -> None:
        self.settings = settings
        self.model = registry.get_embedding_model(settings.model_id)
        self.version = embed_version(self.model)
        label = f"embedding ({settings.model_id})"
        super().__init__(settings.max_texts, settings.circuit_breaker, total_rows, label, tally)
        self.failed: set[str] = set()  # failed in this run: a later chunk does not send them again
        self._dim = 0

    def __enter__(self) -> EmbedRun:
        self.cache = LLMCache(self.settings.cache_path).__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cache.__exit__(*exc)
        self.close_progress()
        log.info("embeddings (%s): %s", self.settings.model_id, self.tally.line())

    @property
    def dim(self) -> int:
        """The embedding size: of the vectors stored, else the model's."""
        self._dim = self._dim or _probe_dim(self.model)
        return self._dim

    def embed(self, texts: Sequence[str | None]) -> tuple[list[str], list[str]]:
        """Each text's content hash and outcome (ok | failed | over_budget); the vectors are in the cache."""
        settings, tally, model_id = self.settings, self.tally, self.settings.model_id
        hashes, unique, first = self.chunk_texts(texts)
        # which texts are cached (not their vectors): a text an earlier chunk had is, unless it failed or went
        # over budget (none did while the budget lasts), so only the others are looked up
        ask = [h for h in unique if first[h] or self.budget == 0]
        cached = self.cache.embedded_dims(ask, model_id, self.version)
        self._dim = self._dim or next(iter(cached.values()), 0)
        stored = {h for h in unique if h in cached or not (first[h] or self.budget == 0 or h in self.failed)}
        del cached
        failed = {h for h in unique if h in self.failed and h not in stored}
        todo = [h for h in unique if h not in stored and h not in failed]
        tally.cached += sum(first[h] for h in stored)
        todo = self.within_budget(todo, len(hashes))
        it = iter(todo)
        while batch := list(islice(it, settings.batch_size)):
            if self.circuit_open:
                failed.update(batch)  # circuit open: not sent, retried next run
            else:
                got = _embed_batch(self.model, [unique[h] for h in batch], settings, tally)
                if got is None:
                    failed.update(batch)
                    self.streak += 1
                else:
                    self.streak = 0
                    self.cache.put_embeddings(batch, got, model_id, self.version)
                    stored.update(batch)
                    self._dim = self._dim or got.shape[1]
                tally.sent += len(batch)
            self.advance(len(batch))
        self.failed |= failed
        rows = self.count(
            hashes, first, lambda h: "tagged" if h in stored else "failed" if h in failed else "over_budget"
        )
        return hashes, ["ok" if o == "tagged" else o for o in rows]

    def read_back(self, hashes: pa.Array) -> Iterator[tuple[int, pa.FixedSizeListArray]]:
        """(start, vectors) for each OUTPUT_ROWS-row slice of `hashes`, read from the cache as they are asked for.
        A vector that left the cache since it was stored is an error naming the file."""
        with LLMCache(self.settings.cache_path) as cache:
            for start in range(0, len(hashes), OUTPUT_ROWS):
                part = hashes.slice(start, OUTPUT_ROWS).to_pylist()
                vectors = cache.get_embeddings(part, self.settings.model_id, self.version)
                if len(vectors) < len(set(part)):
                    raise RuntimeError(
                        f"embeddings left the text cache {self.settings.cache_path} while this run read them "
                        f"back (cleared by another process?): run the build again"
                    )
                yield start, fixed_size_list(np.stack([vectors[h] for h in part]))


def _embed_batch(model: object, texts: list[str], settings: EmbedSettings, tally: Tally) -> np.ndarray | None:
    """One embed_multi call with retries and backoff on transient errors; None when it still fails."""
    for attempt in range(settings.max_retries + 1):
        if attempt:
            tally.retries += 1
            time.sleep(settings.backoff_s * (2 ** (attempt - 1)) * (0.5 + random.random()))
        tally.requests += 1
        try:
            got = model.embed_multi(texts, batch_size=settings.batch_size)  # type: ignore[attr-defined]
            return np.asarray(list(got), dtype=np.float32)
        except Exception as exc:  # noqa: BLE001 - classified below
            error = scrub(f"{type(exc).__name__}: {exc}")
            if not is_retryable(exc):
                log.warning("embedding batch failed, not retryable: %s", error)
                return None
            log.info(
                "embedding batch failed (%s), attempt %d/%d", error, attempt + 1, settings.max_retries + 1
            )
    log.warning("embedding batch of %d texts failed after %d attempts", len(texts), settings.max_retries + 1)
    return None


def _probe_dim(model: object) -> int:
    """Embedding size when nothing was embedded: the model's `dimensions` attribute, else one probe call."""
    dim = getattr(model, "dimensions", None)
    return int(dim) if dim else len(model.embed("dimension probe"))  # type: ignore[attr-defined]
