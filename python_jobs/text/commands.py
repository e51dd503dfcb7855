"""`churn enrich`: backfill tags/embeddings into the cache under a budget (`churn eval-text` is in eval_command)."""

from __future__ import annotations

import logging
from pathlib import Path

import click
import pandas as pd

from python_jobs.cli_options import path_option

log = logging.getLogger(__name__)


def _quiet_http_logs() -> None:
    """One INFO line per HTTP request drowns the progress line; keep warnings only."""
    for name in ("httpx", "httpx2", "httpcore", "openai"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _load_texts(raw_path: Path | None, warehouse: Path | None, source: str) -> pd.DataFrame:
    """Reviews and/or tickets as (kind, id, text) from the warehouse marts, or raw Parquet files."""
    frames = []
    specs = {
        "reviews": ("review", "fct_reviews", "reviews", "title"),
        "tickets": ("ticket", "fct_support_tickets", "support_tickets", "subject"),
    }
    for name, (kind, mart, raw, head) in specs.items():
        if source not in (name, "all"):
            continue
        if raw_path is not None:
            path = raw_path / f"{raw}.parquet"
            if not path.exists():
                continue
            df = pd.read_parquet(path, columns=[f"{kind}_id", head, "body"]).drop_duplicates(f"{kind}_id")
        else:
            from python_jobs.warehouse import connect, table_exists

            with connect(warehouse) as con:
                if not table_exists(con, "marts", mart):
                    continue
                df = con.execute(f"select {kind}_id, {head}, body from marts.{mart}").df()
        text = (df[head].fillna("").astype(str) + "\n" + df["body"].fillna("").astype(str)).str.strip()
        frames.append(pd.DataFrame({"kind": kind, "id": df[f"{kind}_id"].astype(str), "text": text}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["kind", "id", "text"])


cache_option = path_option("--cache", "cache_path", help="Response cache (default: CHURN_LLM_CACHE).")


@click.command()
@click.option(
    "--model",
    "model_id",
    default=None,
    help="llm model id for tags (default: env CHURN_TAG_MODEL or churn-local-tagger).",
)
@click.option(
    "--embedding-model",
    default=None,
    help="llm embedding model id (default: env CHURN_EMBEDDING_MODEL or churn-local-embed).",
)
@click.option(
    "--max-texts",
    type=int,
    default=0,
    show_default=True,
    help="Budget: send at most this many texts (0 = no limit).",
)
@click.option("--source", type=click.Choice(["all", "reviews", "tickets"]), default="all", show_default=True)
@path_option("--raw-path", help="Read raw Parquet files instead of the warehouse marts.")
@path_option("--warehouse", help="DuckDB warehouse (default: CHURN_DUCKDB_PATH).")
@cache_option
@click.option(
    "--texts-per-request", type=int, default=None, help="Texts per prompt (default: 256 local, 10 remote)."
)
@click.option("--concurrency", type=int, default=None, help="Parallel requests (default: 1 local, 4 remote).")
@click.option(
    "--timeout", type=float, default=120.0, show_default=True, help="Seconds per request before retrying."
)
@click.option(
    "--retries", type=int, default=4, show_default=True, help="Retries per request (backoff doubles)."
)
@click.option("--retry-quarantined", is_flag=True, help="Send texts quarantined earlier again.")
@click.option("--embeddings/--no-embeddings", default=True, show_default=True, help="Also embed reviews.")
def enrich(
    model_id: str | None,
    embedding_model: str | None,
    max_texts: int,
    source: str,
    raw_path: Path | None,
    warehouse: Path | None,
    cache_path: Path | None,
    texts_per_request: int | None,
    concurrency: int | None,
    timeout: float,
    retries: int,
    retry_quarantined: bool,
    embeddings: bool,
) -> None:
    """Backfill tags (and review embeddings) into the LLM cache, e.g. with a real model under a budget.

    The next `dbt build` with the same tag_model / embedding_model finds every text in the cache and sends
    nothing. Safe to stop and rerun: results are committed per request, so a rerun resumes.
    """
    from python_jobs.text.embed import embed_texts
    from python_jobs.text.enrich import embed_settings, tag_settings
    from python_jobs.text.runner import tag_texts

    _quiet_http_logs()
    overrides = {"max_texts": max_texts}
    if cache_path:
        overrides["cache_path"] = cache_path.expanduser().resolve()
    tags = tag_settings(
        None,
        **overrides,
        timeout_s=timeout,
        max_retries=retries,
        retry_quarantined=retry_quarantined,
        texts_per_request=texts_per_request,
        concurrency=concurrency,
    )
    if model_id:
        tags.model_id = model_id
    texts = _load_texts(raw_path, warehouse, source)
    click.echo(f"{len(texts):,} texts to enrich with {tags.model_id} (cache {tags.cache_path})", err=True)
    _, tally = tag_texts(texts["id"].radd(texts["kind"] + ":").tolist(), texts["text"].tolist(), tags)
    click.echo(f"tags: {tally.line()}")
    if embeddings:
        emb = embed_settings(None, **overrides)
        if embedding_model:
            emb.model_id = embedding_model
        reviews = texts[texts["kind"] == "review"]
        out = embed_texts(reviews["id"].tolist(), reviews["text"].tolist(), emb).read_all()
        click.echo(f"embeddings: {out.num_rows:,} of {len(reviews):,} reviews embedded with {emb.model_id}")
