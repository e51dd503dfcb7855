"""Embeddings for many texts with any `llm` embedding model, cached, as a pyarrow FixedSizeList column."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np
import pyarrow as pa

from python_jobs import config
from python_jobs.progress import Progress
from python_jobs.text import registry
from python_jobs.text.cache import LLMCache, content_hash
from python_jobs.text.redact import REDACTION_VERSION, redact

log = logging.getLogger(__name__)


@dataclass
class EmbedSettings:
    model_id: str = "churn-local-embed"
    cache_path: Path = field(default_factory=config.llm_cache_path)
    batch_size: int = 4096  # texts per embed_multi call and per cache commit
    max_texts: int = 0  # budget for texts sent to the model in this run (0 = no limit)
    show_progress: bool = True


def embed_version(model: object) -> str:
    return "|".join(v for v in (REDACTION_VERSION, getattr(model, "version", "")) if v) or "v1"


def fixed_size_list(vectors: np.ndarray) -> pa.FixedSizeListArray:
    """(n, d) float32 -> FixedSizeList<float32, d>, which DuckDB stores as FLOAT[d]."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, d = vectors.shape
    return pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1), pa.float32()), d)


def embed_texts(ids: Sequence[str], texts: Sequence[str | None], settings: EmbedSettings) -> pa.Table:
    """One row per input id: row_index (input position), text_id, content_hash, embedding_model, embedding.

    Texts not embedded because of the budget are left out (the next run picks them up).
    """
    model = registry.get_embedding_model(settings.model_id)
    version = embed_version(model)
    redacted = [redact(t) for t in texts]
    hashes = [content_hash(t) for t in redacted]
    unique = dict(zip(hashes, redacted, strict=True))
    with LLMCache(settings.cache_path) as cache:
        vectors = cache.get_embeddings(list(unique), settings.model_id, version)
        todo = [h for h in unique if h not in vectors]
        cached = len(vectors)
        if settings.max_texts and len(todo) > settings.max_texts:
            todo = todo[: settings.max_texts]
        progress = Progress(len(todo), f"embedding ({settings.model_id})", unit="texts") if todo else None
        it = iter(todo)
        while batch := list(islice(it, settings.batch_size)):
            got = np.asarray(
                list(model.embed_multi([unique[h] for h in batch], batch_size=settings.batch_size)),
                dtype=np.float32,
            )
            cache.put_embeddings(batch, got, settings.model_id, version)
            vectors.update(zip(batch, got, strict=True))
            if progress:
                progress.update(len(batch))
        if progress:
            progress.close()
    log.info("embeddings: %d texts, %d from cache, %d embedded now", len(hashes), cached, len(todo))
    keep = [i for i, h in enumerate(hashes) if h in vectors]
    dim = len(next(iter(vectors.values()))) if vectors else _probe_dim(model)
    matrix = np.stack([vectors[hashes[i]] for i in keep]) if keep else np.zeros((0, dim), np.float32)
    return pa.table(
        {
            "row_index": pa.array(keep, pa.int64()),
            "text_id": pa.array([str(ids[i]) for i in keep], pa.string()),
            "content_hash": pa.array([hashes[i] for i in keep], pa.string()),
            "embedding_model": pa.array([settings.model_id] * len(keep), pa.string()),
            "embedding": fixed_size_list(matrix),
        }
    )


def _probe_dim(model: object) -> int:
    """Embedding size when nothing was embedded: the model's `dimensions` attribute, else one probe call."""
    dim = getattr(model, "dimensions", None)
    return int(dim) if dim else len(model.embed("dimension probe"))  # type: ignore[attr-defined]
