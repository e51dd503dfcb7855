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
from python_jobs.progress import Progress
from python_jobs.text import registry
from python_jobs.text.cache import LLMCache, content_hash
from python_jobs.text.calls import is_retryable, scrub
from python_jobs.text.redact import REDACTION_VERSION, redact
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
    complete) when this returns; the reader reads each batch's vectors back from the cache, so no step holds
    every embedding (1.3M x 256 floats: 1.3 GB at 1M customers).
    """
    model = registry.get_embedding_model(settings.model_id)
    version = embed_version(model)
    redacted = [redact(t) for t in texts]
    hashes = [content_hash(t) for t in redacted]
    unique = dict(zip(hashes, redacted, strict=True))
    tally = tally if tally is not None else Tally()
    tally.total, tally.unique = len(hashes), len(unique)
    failed: set[str] = set()
    with LLMCache(settings.cache_path) as cache:
        # which texts are cached, not their vectors: the reader reads those back batch by batch
        cached = cache.embedded_dims(list(unique), settings.model_id, version)
        dim = next(iter(cached.values()), 0)
        stored = {h for h in unique if h in cached}  # texts whose embedding is in the cache
        del cached
        todo = [h for h in unique if h not in stored]
        tally.cached = len(stored)
        if settings.max_texts and len(todo) > settings.max_texts:
            todo = todo[: settings.max_texts]
        tried = set(todo)
        progress = Progress(len(todo), f"embedding ({settings.model_id})", unit="texts") if todo else None
        it = iter(todo)
        streak = 0
        while batch := list(islice(it, settings.batch_size)):
            if settings.circuit_breaker and streak >= settings.circuit_breaker:
                failed.update(batch)  # circuit open: not sent, retried next run
                continue
            got = _embed_batch(model, [unique[h] for h in batch], settings, tally)
            if got is None:
                failed.update(batch)
                streak += 1
            else:
                streak = 0
                cache.put_embeddings(batch, got, settings.model_id, version)
                stored.update(batch)
                dim = dim or got.shape[1]
            tally.sent += len(batch)
            if progress:
                progress.update(len(batch))
        if progress:
            progress.close()
    tally.tagged = sum(h in stored for h in hashes)
    tally.texts_tagged = sum(h in stored for h in unique)
    tally.failed = sum(h in failed for h in hashes)
    tally.texts_failed = len(failed)
    tally.over_budget = tally.total - tally.tagged - tally.failed
    tally.texts_over_budget = tally.unique - tally.texts_tagged - tally.texts_failed
    tally.attempted = sum(h in tried for h in hashes)
    tally.attempt_failed = tally.failed
    if status is not None:
        status.extend("ok" if h in stored else "failed" if h in failed else "over_budget" for h in hashes)
    log.info("embeddings (%s): %s", settings.model_id, tally.line())
    keep = [i for i, h in enumerate(hashes) if h in stored]
    dim = dim or _probe_dim(model)
    schema = pa.schema(
        [
            ("row_index", pa.int64()),
            ("text_id", pa.string()),
            ("content_hash", pa.string()),
            ("embedding_model", pa.string()),
            ("embedding", pa.list_(pa.float32(), dim)),
        ]
    )

    def batches() -> Iterator[pa.RecordBatch]:
        with LLMCache(settings.cache_path) as cache:
            for start in range(0, len(keep), OUTPUT_ROWS):
                part = keep[start : start + OUTPUT_ROWS]
                part_hashes = [hashes[i] for i in part]
                vectors = cache.get_embeddings(part_hashes, settings.model_id, version)
                if len(vectors) < len(set(part_hashes)):
                    raise RuntimeError(
                        f"embeddings left the text cache {settings.cache_path} while this run read them back "
                        f"(cleared by another process?): run the build again"
                    )
                columns = [
                    pa.array(part, pa.int64()),
                    pa.array([str(ids[i]) for i in part], pa.string()),
                    pa.array(part_hashes, pa.string()),
                    pa.array([settings.model_id] * len(part), pa.string()),
                    fixed_size_list(np.stack([vectors[h] for h in part_hashes])),
                ]
                yield pa.RecordBatch.from_arrays(columns, schema=schema)

    return pa.RecordBatchReader.from_batches(schema, batches())


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
