"""Enrichment entry points for the dbt Python models and the `churn enrich` command.

Each function takes the mart rows (a DuckDB relation, pyarrow or pandas) and returns a pyarrow table: the keys
and timestamps of the source rows, then the tags or the embedding, then `source_hash` and `enriched_at`.
Settings come from dbt vars (or env, or defaults). Given `this` (the existing table of an incremental dbt
model), only the rows that are new or changed since that table was built are enriched and returned
(`incremental.rows_to_enrich`); the model's delete+insert strategy merges them in. A failing model never
destroys good work: a row whose new call failed, timed out, was quarantined or left over budget is not
returned when `this` holds a good earlier result for it, so that result stays (and is retried next build).
Given a `runs.RunLog`, the tally goes to dbt's log and the warehouse table enrichment_runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from python_jobs import config
from python_jobs.text import registry
from python_jobs.text.calls import is_local
from python_jobs.text.embed import EmbedRun, EmbedSettings, embed_version
from python_jobs.text.incremental import chunks, rows_to_enrich
from python_jobs.text.joined import joined_text
from python_jobs.text.request import TagSettings, cache_version
from python_jobs.text.runner import TagRun
from python_jobs.text.runs import RunLog
from python_jobs.text.tally import Tally
from python_jobs.warehouse import only_row

DEFAULT_TAG_MODEL = "churn-local-tagger"
DEFAULT_EMBED_MODEL = "churn-local-embed"

Getter = Callable[[str], Any]


def _setting(get: Getter | None, var: str, env: str, default: str) -> str:
    value = get(var) if get else None
    if value in (None, "", "None"):
        value = os.environ.get(env) or default
    return str(value)


def _cache_path(get: Getter | None) -> Path:
    """The dbt var llm_cache_path when set, else python_jobs.config's (env CHURN_LLM_CACHE or the default)."""
    value = get("llm_cache_path") if get else None
    if value in (None, "", "None"):
        return config.llm_cache_path()
    return Path(str(value)).expanduser().resolve()


def _call_settings(get: Getter | None) -> dict[str, Any]:
    """What tagging and embedding share: the response cache, the text budget, retries and their backoff."""
    return {
        "cache_path": _cache_path(get),
        "max_texts": int(_setting(get, "max_texts", "CHURN_MAX_TEXTS", "0") or 0),
        "max_retries": int(_setting(get, "tag_max_retries", "CHURN_TAG_MAX_RETRIES", "4")),
        "backoff_s": float(_setting(get, "tag_backoff_s", "CHURN_TAG_BACKOFF_S", "1.0")),
    }


def _overridden(settings: Any, overrides: dict[str, Any]) -> Any:
    for key, value in overrides.items():
        setattr(settings, key, value)
    return settings


def tag_settings(get: Getter | None = None, **overrides: Any) -> TagSettings:
    """From dbt vars tag_model / llm_cache_path / max_texts / tag_max_attempts / tag_max_retries /
    tag_backoff_s (env CHURN_TAG_MODEL, CHURN_LLM_CACHE, CHURN_MAX_TEXTS, CHURN_TAG_MAX_ATTEMPTS, ...)."""
    settings = TagSettings(
        model_id=_setting(get, "tag_model", "CHURN_TAG_MODEL", DEFAULT_TAG_MODEL),
        max_attempts=int(_setting(get, "tag_max_attempts", "CHURN_TAG_MAX_ATTEMPTS", "3")),
        weak_sentiment=_setting(get, "weak_sentiment", "CHURN_WEAK_SENTIMENT", "true").lower()
        in ("true", "1", "yes"),
        **_call_settings(get),
    )
    return _overridden(settings, overrides)


def local_tagger_for(weak: Any, settings: TagSettings) -> Any:
    """The local tagger blended with the weak sentiment model that `weak` (a weak_sentiment_model registry
    relation) points at, when enabled and the tag model is the local one; None means: use settings.model_id."""
    if not (settings.weak_sentiment and is_local(settings.model_id)) or weak is None:
        return None
    from python_jobs.text.llm_plugin import LocalTagger
    from python_jobs.text.weak_registry import load

    model = load(weak)
    return LocalTagger(weak=model) if model is not None else None


def embed_settings(get: Getter | None = None, **overrides: Any) -> EmbedSettings:
    """From dbt vars embedding_model / llm_cache_path / max_texts (env CHURN_EMBEDDING_MODEL, ...)."""
    settings = EmbedSettings(
        model_id=_setting(get, "embedding_model", "CHURN_EMBEDDING_MODEL", DEFAULT_EMBED_MODEL),
        **_call_settings(get),
    )
    return _overridden(settings, overrides)


def _arrow(rows: Any) -> pa.Table:
    if isinstance(rows, pa.Table):
        return rows
    if hasattr(rows, "to_arrow_table"):  # a DuckDB relation
        return rows.to_arrow_table()
    return pa.Table.from_pandas(rows, preserve_index=False)


_KEEP = {
    "review": ["review_id", "customer_id", "order_id", "created_at", "rating", "language"],
    "ticket": ["ticket_id", "customer_id", "order_id", "created_at", "channel", "language"],
}
_TEXT = {"review": ("title", "body"), "ticket": ("subject", "body")}


def _enriched_now() -> pa.TimestampScalar:
    """This build's time (UTC, naive like the marts' timestamps), for the rows it (re)enriched."""
    return pa.scalar(datetime.now(UTC).replace(tzinfo=None), pa.timestamp("us"))


def _count_rows(rows: Any) -> int:
    if isinstance(rows, pa.Table):
        return rows.num_rows
    if isinstance(rows, duckdb.DuckDBPyRelation):  # count without materialising it
        return int(only_row(rows.aggregate("count(*)"))[0])
    return len(rows)


def _keep_good_work(table: pa.Table, ok: pa.Array, tally: Tally, status: pa.Array | None = None) -> pa.Array:
    """Mask of the rows to return: every success, and the failures that have no good earlier result (which
    they would otherwise replace). Adds kept_previous and without_result to `tally`."""
    previous = table["has_previous"].combine_chunks()
    keep = pc.or_(ok, pc.invert(previous))
    tally.kept_previous += table.num_rows - pc.sum(keep.cast(pa.int64())).as_py() if table.num_rows else 0
    lost = pc.and_(pc.invert(ok), pc.invert(previous))
    if status is not None:  # over budget is a choice, not a failure
        lost = pc.and_(lost, pc.is_in(status, pa.array(["failed", "quarantined"])))
    tally.without_result += int(pc.sum(lost.cast(pa.int64())).as_py() or 0)
    return keep


def _tagged_rows(kind: str, rows: pa.Table, tags: pa.Table, tally: Tally) -> pa.Table:
    """The output rows of one chunk: its kept columns and tags, the rows whose result is kept."""
    status = tags["tag_status"].combine_chunks()
    keep = _keep_good_work(rows, pc.equal(status, "tagged"), tally, status)
    out = rows.select([c for c in _KEEP[kind] if c in rows.column_names])
    if "language" in out.column_names:
        out = out.rename_columns([c if c != "language" else "language_hint" for c in out.column_names])
    for name in tags.column_names[1:]:
        out = out.append_column(name, tags[name])
    return out.append_column("source_hash", rows["source_hash"]).filter(keep)


def _tag(
    kind: str,
    rows: Any,
    settings: TagSettings,
    weak: Any = None,
    this: str | None = None,
    run: RunLog | None = None,
) -> tuple[pa.Table, Tally]:
    key = f"{kind}_id"
    model = local_tagger_for(weak, settings)
    if model is None:
        model = registry.get_model(settings.model_id)
    columns = [key, *_KEEP[kind], *_TEXT[kind]]
    pending = rows_to_enrich(
        rows,
        key,
        columns,
        settings.model_id,
        cache_version(model),
        this=this,
        retry_untagged=True,
        previous_ok="t.tag_status = 'tagged'",
    )
    parts = []
    total, tables = chunks(pending)
    with TagRun(settings, model, total_rows=total) as tagging:
        for chunk in tables:  # a chunk's texts at a time: the output keeps none
            tags = tagging.tag(chunk[key].cast(pa.string()).to_pylist(), joined_text(chunk, *_TEXT[kind]))
            parts.append(_tagged_rows(kind, chunk, tags, tagging.tally))
    out = pa.concat_tables(parts)
    if run is not None:
        run.finish(tagging.tally, settings.model_id, _count_rows(rows))
    return out.append_column("enriched_at", pa.repeat(_enriched_now(), out.num_rows)), tagging.tally


def tag_reviews(
    reviews: Any,
    settings: TagSettings | None = None,
    this: str | None = None,
    weak: Any = None,
    run: RunLog | None = None,
) -> pa.Table:
    """review_tags: one row per review (keys, created_at, rating) with its tags and tag status.

    `weak` is the weak_sentiment_model registry (fitted before the evaluation snapshot); its version is part of
    tag_version and source_hash, so when it is refitted every review is re-tagged with the new blend.
    """
    return _tag("review", reviews, settings or tag_settings(), weak=weak, this=this, run=run)[0]


def tag_tickets(
    tickets: Any,
    settings: TagSettings | None = None,
    weak: Any = None,
    this: str | None = None,
    run: RunLog | None = None,
) -> pa.Table:
    """ticket_tags: one row per support ticket (keys, created_at, channel) with its tags and tag status.

    By default the local tagger uses its base (lexicon + public model) alone here: a weak-label model fitted on
    review stars scored worse than the base on tickets in `churn eval-text`, also with its class priors shifted
    to the tickets' (rerun: `churn eval-text --raw-path WORLD`, row `+review-stars`; 5,000-customer world,
    sentiment accuracy en 0.815 -> 0.250, zh 0.767 -> 0.289, pt 0.857 -> 0.108). Passing `weak` (a registry
    relation) opts in anyway.
    """
    return _tag("ticket", tickets, settings or tag_settings(), weak=weak, this=this, run=run)[0]


def embed_reviews(
    reviews: Any, settings: EmbedSettings | None = None, this: str | None = None, run: RunLog | None = None
) -> pa.RecordBatchReader:
    """review_embeddings: review_id, customer_id, created_at, content_hash, embedding_model, embedding FLOAT[d],
    source_hash, enriched_at. Reviews whose embedding failed or is over budget are left out: an earlier
    embedding stays, a new review waits for the next build. The rows are read and embedded a chunk at a time
    (embed.EmbedRun: the vectors go to the cache); every review is embedded and the run logged when this
    returns a reader of batches that reads their vectors back, which dbt-duckdb writes as they are read."""
    settings = settings or embed_settings()
    version = embed_version(registry.get_embedding_model(settings.model_id))
    columns = ["review_id", "customer_id", "created_at", *_TEXT["review"]]
    pending = rows_to_enrich(reviews, "review_id", columns, settings.model_id, version, this=this)
    names = ["review_id", "customer_id", "created_at", "content_hash", "source_hash"]
    parts = []
    total, tables = chunks(pending)
    with EmbedRun(settings, total_rows=total) as embedding:
        for chunk in tables:  # a chunk's texts at a time: the output keeps none
            hashes, outcome = embedding.embed(joined_text(chunk, "title", "body"))
            status = pa.array(outcome, pa.string())
            ok = pc.equal(status, "ok")
            _keep_good_work(chunk, ok, embedding.tally, status)
            rows = chunk.append_column("content_hash", pa.array(hashes, pa.string()))
            parts.append(rows.select(names).filter(ok))
    if run is not None:
        run.finish(embedding.tally, settings.model_id, _count_rows(reviews))
    keys = pa.concat_tables(parts)
    now = _enriched_now()
    schema = pa.schema(
        [*(keys.schema.field(n) for n in names[:4])]
        + [
            pa.field("embedding_model", pa.string()),
            pa.field("embedding", pa.list_(pa.float32(), embedding.dim)),
        ]
        + [keys.schema.field("source_hash"), pa.field("enriched_at", now.type)]
    )

    def batches() -> Iterator[pa.RecordBatch]:
        for start, vectors in embedding.read_back(keys["content_hash"].combine_chunks()):
            rows = keys.slice(start, len(vectors))
            columns = [rows[n] for n in names[:4]] + [pa.repeat(settings.model_id, rows.num_rows), vectors]
            columns += [rows["source_hash"], pa.repeat(now, rows.num_rows)]
            yield from pa.Table.from_arrays(columns, schema=schema).to_batches()

    return pa.RecordBatchReader.from_batches(schema, batches())
