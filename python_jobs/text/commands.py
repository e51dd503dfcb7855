"""`churn enrich` (backfill tags/embeddings into the cache under a budget) and `churn eval-text`."""

from __future__ import annotations

import logging
from pathlib import Path

import click
import pandas as pd

from python_jobs import config

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


cache_option = click.option(
    "--cache",
    "cache_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Response cache (default: CHURN_LLM_CACHE).",
)


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
@click.option(
    "--raw-path",
    type=click.Path(path_type=Path),
    default=None,
    help="Read raw Parquet files instead of the warehouse marts.",
)
@click.option(
    "--warehouse",
    type=click.Path(path_type=Path),
    default=None,
    help="DuckDB warehouse (default: CHURN_DUCKDB_PATH).",
)
@cache_option
@click.option(
    "--texts-per-request", type=int, default=None, help="Texts per prompt (default: 64 local, 10 remote)."
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
        out = embed_texts(reviews["id"].tolist(), reviews["text"].tolist(), emb)
        click.echo(f"embeddings: {out.num_rows:,} of {len(reviews):,} reviews embedded with {emb.model_id}")


@click.command(name="eval-text")
@click.option(
    "--model",
    "model_id",
    default=None,
    help="llm model id to score (default: env CHURN_TAG_MODEL or churn-local-tagger).",
)
@click.option(
    "--raw-path",
    type=click.Path(path_type=Path),
    default=None,
    help="Generated world with truth_texts.parquet (default: CHURN_RAW_PATH).",
)
@click.option(
    "--dev-dir",
    type=click.Path(path_type=Path),
    default=config.REPO_ROOT.parent / "shared" / "data" / "reviews_dev",
    show_default=True,
    help="Real labelled sets (skipped when absent).",
)
@click.option(
    "--dataset",
    "datasets",
    multiple=True,
    help="Only these sets (synthetic_reviews, synthetic_tickets, waimai_zh, amazon_fashion_en, amazon_beauty_en).",
)
@click.option(
    "--sample",
    type=int,
    default=0,
    help="Score a deterministic sample of at most N texts per set (for paid models).",
)
@cache_option
@click.option(
    "--out",
    "out_csv",
    type=click.Path(path_type=Path),
    default=Path("warehouse/text_eval.csv"),
    show_default=True,
)
@click.option(
    "--warehouse",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write table enrichment.text_eval_results into this DuckDB file.",
)
@click.option(
    "--weak/--no-weak",
    default=True,
    show_default=True,
    help="Also score the local tagger blended with the star-rating model (cross-fitted).",
)
def eval_text(
    model_id: str | None,
    raw_path: Path | None,
    dev_dir: Path,
    datasets: tuple[str, ...],
    sample: int,
    cache_path: Path | None,
    out_csv: Path,
    warehouse: Path | None,
    weak: bool,
) -> None:
    """Score a tagger against labelled text (synthetic truth and real dev sets) next to a naive baseline."""
    import os

    from python_jobs.text.enrich import tag_settings
    from python_jobs.text.evaluate import comparison, evaluate, real_sets, synthetic_sets

    _quiet_http_logs()
    settings = tag_settings(None, **({"cache_path": cache_path.expanduser().resolve()} if cache_path else {}))
    if model_id:
        settings.model_id = model_id
    raw = raw_path or (Path(os.environ["CHURN_RAW_PATH"]) if os.environ.get("CHURN_RAW_PATH") else None)
    sets = {}
    if raw is not None and (raw / "truth_texts.parquet").exists():
        sets |= synthetic_sets(raw)
    elif raw is not None:
        click.echo(f"no truth_texts.parquet under {raw}: synthetic sets skipped", err=True)
    if dev_dir.exists():
        sets |= real_sets(dev_dir)
    if datasets:
        sets = {k: v for k, v in sets.items() if k in datasets}
    if sample:
        sets = {
            k: v.sample(n=min(sample, len(v)), random_state=0).reset_index(drop=True) for k, v in sets.items()
        }
    if not sets:
        raise click.UsageError(
            "no labelled data found (pass --raw-path with truth_texts.parquet or --dev-dir)"
        )
    from python_jobs.text.calls import is_local

    results = evaluate(sets, settings, weak=weak and is_local(settings.model_id))
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    results.to_csv(out_csv, index=False)
    if warehouse:
        from python_jobs.warehouse import connect

        with connect(warehouse, read_only=False) as con:
            con.execute("create schema if not exists enrichment")
            con.register("results_df", results)
            con.execute(
                "create or replace table enrichment.text_eval_results as select *, now() as evaluated_at from results_df"
            )
    wide = comparison(results)
    sizes = results.groupby("dataset")["n"].first()
    click.echo(f"eval-text: {settings.model_id} vs naive baseline (results in {out_csv})")
    click.echo(
        wide.assign(n=wide["dataset"].map(sizes)).to_string(index=False, float_format=lambda v: f"{v:.3f}")
    )
