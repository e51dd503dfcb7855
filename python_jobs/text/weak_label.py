"""Weak-label sentiment: a character n-gram model fitted on the shop's own star ratings, blended with the lexicon.

Stars are noisy labels for the text's sentiment (1-2 negative, 3 neutral, 4-5 positive), but there are many
of them and they speak the shop's own vocabulary and class balance, which a general lexicon does not.
Features: TF-IDF of character 2-4-grams (any language, no tokenizer) plus the default tagger's own score
(lexicon + shipped public model, `base_scores`) and its magnitude, so the model learns how far to trust it. The local tagger uses the model's class
probabilities for sentiment (P(pos) - P(neg)) and label (argmax). `churn eval-text` scores it with
cross-fitting (never on the texts it was fitted on); it is kept because it beats the lexicon alone there.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier

from python_jobs.files import write_atomically

log = logging.getLogger(__name__)

WEAK_VERSION = "weak-v1"
LABELS = np.array(["negative", "neutral", "positive"])


def star_classes(ratings: np.ndarray) -> np.ndarray:
    """Stars -> 0 negative (1-2), 1 neutral (3), 2 positive (4-5); -1 where missing or out of range."""
    r = np.asarray(ratings, dtype=float)
    out = np.select([r <= 2, r == 3, r >= 4], [0, 1, 2], default=-1)
    return np.where(np.isnan(r) | (r < 1) | (r > 5), -1, out)


def enough_ratings(ratings: np.ndarray, min_rated: int = 300, min_per_class: int = 15) -> bool:
    """Fit only with enough star-rated texts and every class present."""
    y = star_classes(ratings)
    counts = np.bincount(y[y >= 0], minlength=3)
    return counts.sum() >= min_rated and counts.min() >= min_per_class


class WeakSentiment(BaseEstimator):
    """fit(texts, ratings, lexicon_scores) -> self; predict_proba(texts, lexicon_scores) -> (n, 3)."""

    def __init__(self, max_train: int = 30_000, alpha: float = 1e-5, seed: int = 0) -> None:
        self.max_train = max_train
        self.alpha = alpha
        self.seed = seed

    def _features(self, texts: Sequence[str], lex: np.ndarray, fit: bool = False) -> sparse.csr_matrix:
        grams = self.vectorizer_.fit_transform(texts) if fit else self.vectorizer_.transform(texts)
        lex = np.asarray(lex, dtype=np.float32)
        return sparse.hstack([grams, sparse.csr_matrix(np.c_[lex, np.abs(lex)])]).tocsr()

    def fit(
        self, texts: Sequence[str], ratings: np.ndarray, lexicon_scores: np.ndarray | None = None
    ) -> WeakSentiment:
        """Without `lexicon_scores`, base_scores are computed for the sampled training rows only (the same
        values: a text's base score does not depend on the others), which at 1M reviews saves minutes."""
        y = star_classes(ratings)
        keep = np.nonzero(y >= 0)[0]
        if len(keep) > self.max_train:
            keep = np.sort(np.random.default_rng(self.seed).choice(keep, self.max_train, replace=False))
        texts_k = [texts[i] for i in keep]
        lex_k = base_scores(texts_k) if lexicon_scores is None else np.asarray(lexicon_scores)[keep]
        self.vectorizer_ = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(2, 4),
            min_df=2,
            sublinear_tf=True,
            max_features=50_000,
            dtype=np.float32,
        )
        x = self._features(texts_k, lex_k, fit=True)
        self.clf_ = SGDClassifier(
            loss="log_loss", alpha=self.alpha, max_iter=50, tol=None, random_state=self.seed
        )
        self.clf_.fit(x, y[keep])
        rated = np.nonzero(y >= 0)[0]
        self.fingerprint_ = fingerprint([texts[i] for i in rated], y[rated], self)
        self.n_train_ = len(keep)
        log.info("weak sentiment model fitted on %d star-rated texts (%s)", len(keep), self.fingerprint_)
        return self

    def predict_proba(self, texts: Sequence[str], lexicon_scores: np.ndarray) -> np.ndarray:
        proba = self.clf_.predict_proba(self._features(texts, lexicon_scores))
        out = np.zeros((len(texts), 3))
        out[:, self.clf_.classes_] = proba
        return out

    @property
    def version(self) -> str:
        return f"{WEAK_VERSION}-{self.fingerprint_}"

    def save(self, path: Path) -> None:
        data = pickle.dumps(self)
        write_atomically(Path(path), lambda tmp: Path(tmp).write_bytes(data))

    @staticmethod
    def load(path: Path) -> WeakSentiment:
        return pickle.loads(Path(path).read_bytes())


def base_scores(texts: Sequence[str]) -> np.ndarray:
    """The default tagger's own sentiment (lexicon + public model): the weak model's base-score feature."""
    from python_jobs.text.public_model import tag_batch

    return np.array([t["sentiment"] for t in tag_batch(list(texts))], dtype=float)


def canonical_training_set(texts: Sequence[str], ratings: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The star-rated texts sorted by (text, star class): the fit, its sample and its fingerprint depend only on
    the set of (text, stars) pairs, never on the order rows arrive in."""
    y = star_classes(ratings)
    keep = np.nonzero(y >= 0)[0]
    pairs = sorted((texts[i], int(y[i])) for i in keep)
    return [t for t, _ in pairs], np.array([c for _, c in pairs], dtype=np.int64)


def fingerprint(texts: Sequence[str], classes: np.ndarray, model: WeakSentiment) -> str:
    """Content hash of the training set and hyperparameters: the artifact's name."""
    from python_jobs.text.public_model import base_version

    # the base score (lexicon + public model) is a feature: another base means another model
    digest = hashlib.sha256(
        f"{WEAK_VERSION}|{base_version()}|{model.max_train}|{model.alpha}|{model.seed}".encode()
    )
    for t, label in zip(texts, classes, strict=True):
        digest.update(f"{label}\x00{t}\x01".encode())
    return digest.hexdigest()[:16]


def fit_or_load(
    texts: Sequence[str], ratings: np.ndarray, folder: Path, seed: int = 0
) -> WeakSentiment | None:
    """The weak model for exactly these (text, stars) pairs: loaded from `folder/<version>.pkl` when that
    training set was fitted before, else fitted (deterministically) and saved there. None with too few ratings."""
    ratings = np.asarray(ratings, dtype=float)
    if not enough_ratings(ratings):
        log.info("too few star ratings for a weak sentiment model; using the lexicon alone")
        return None
    texts_c, classes = canonical_training_set(texts, ratings)
    model = WeakSentiment(seed=seed)
    fp = fingerprint(texts_c, classes, model)
    path = Path(folder) / f"{WEAK_VERSION}-{fp}.pkl"
    if path.exists():
        return WeakSentiment.load(path)
    # classes are 0/1/2; star_classes maps 1/3/5 stars onto them again
    model.fit(texts_c, np.array([1.0, 3.0, 5.0])[classes])
    model.n_rated_ = len(texts_c)
    model.save(path)
    return model
