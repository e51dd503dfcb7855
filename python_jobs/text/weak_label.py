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
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
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


def enough_ratings(ratings: np.ndarray) -> bool:
    """Fit only with enough star-rated texts and every class present."""
    y = star_classes(ratings)
    return enough_classes(np.bincount(y[y >= 0], minlength=3))


def enough_classes(counts: np.ndarray, min_rated: int = 300, min_per_class: int = 15) -> bool:
    """enough_ratings, from the number of rated texts per star class."""
    return bool(counts.sum() >= min_rated and counts.min() >= min_per_class)


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
        rated = np.nonzero(y >= 0)[0]
        keep = self.sample(rated)
        lex = None if lexicon_scores is None else np.asarray(lexicon_scores)[keep]
        self.fit_sample([texts[i] for i in keep], y[keep], lex)
        self.fingerprint_ = fingerprint([texts[i] for i in rated], y[rated], self)
        log.info("weak sentiment model fitted on %d star-rated texts (%s)", len(keep), self.fingerprint_)
        return self

    def sample(self, positions: np.ndarray) -> np.ndarray:
        """The training rows among `positions` (sorted): all, or max_train of them drawn with the seed."""
        if len(positions) <= self.max_train:
            return positions
        return np.sort(np.random.default_rng(self.seed).choice(positions, self.max_train, replace=False))

    def fit_sample(
        self, texts: Sequence[str], classes: np.ndarray, lexicon_scores: np.ndarray | None = None
    ) -> None:
        """Fit on these rated texts as they are (star classes 0/1/2, already sampled); fingerprint_ is the
        caller's to set."""
        lex = base_scores(texts) if lexicon_scores is None else np.asarray(lexicon_scores)
        self.vectorizer_ = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(2, 4),
            min_df=2,
            sublinear_tf=True,
            max_features=50_000,
            dtype=np.float32,
        )
        x = self._features(texts, lex, fit=True)
        self.clf_ = SGDClassifier(
            loss="log_loss", alpha=self.alpha, max_iter=50, tol=None, random_state=self.seed
        )
        self.clf_.fit(x, classes)
        self.n_train_ = len(texts)

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


class CanonicalPairs:
    """The star-rated (text, class) pairs of a training set, added in chunks in any order, read back sorted by
    (text, class): the fit, its sample and its fingerprint then depend only on the set of pairs, never on the
    order rows arrive in. The pairs wait in a DuckDB table of their own (an in-memory database that spills to a
    temporary directory past `memory`), so a million long reviews are not held as Python strings to be sorted.
    DuckDB orders VARCHAR by its UTF-8 bytes, which is Python's order of str (by code point). `spill_dir`: where
    that directory goes (the system's temporary directory by default; the registry puts it beside the model, on
    the warehouse's disk, as /tmp may be memory)."""

    def __init__(self, memory: str = "512MB", spill_dir: Path | None = None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="weak-pairs-", dir=spill_dir)
        self._con = duckdb.connect(
            config={"memory_limit": memory, "threads": 1, "temp_directory": self._tmp.name}
        )
        self._con.execute("create table pairs (text varchar not null, class tinyint not null)")
        self.counts = np.zeros(3, np.int64)

    def __enter__(self) -> CanonicalPairs:
        return self

    def __exit__(self, *exc: object) -> None:
        self._con.close()
        self._tmp.cleanup()

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    def add(self, texts: Sequence[str], classes: np.ndarray) -> None:
        """Texts with their star classes (-1: unrated, left out)."""
        rated = np.nonzero(np.asarray(classes) >= 0)[0]
        pairs = pa.table(
            {
                "text": pa.array([texts[i] for i in rated], pa.string()),
                "class": pa.array(classes[rated], pa.int8()),
            }
        )
        self._con.from_arrow(pairs).insert_into("pairs")
        self.counts += np.bincount(classes[rated], minlength=3)

    def fingerprint_and_sample(self, model: WeakSentiment) -> tuple[str, list[str], np.ndarray]:
        """The training set's fingerprint and the pairs `model` fits on, in canonical order: all of them, or
        model.max_train drawn with model.seed (as WeakSentiment.fit draws them from the canonical list)."""
        take = model.sample(np.arange(self.n))
        digest = _fingerprint_digest(model)
        texts: list[str] = []
        classes: list[int] = []
        at = 0  # the canonical position of the chunk's first pair
        ordered = self._con.sql("select text, class from pairs order by text, class")
        for batch in ordered.to_arrow_reader(50_000):
            chunk_texts, chunk_classes = batch.column(0).to_pylist(), batch.column(1).to_pylist()
            _update(digest, chunk_texts, chunk_classes)
            lo, hi = np.searchsorted(take, [at, at + batch.num_rows])
            texts += [chunk_texts[i - at] for i in take[lo:hi]]
            classes += [chunk_classes[i - at] for i in take[lo:hi]]
            at += batch.num_rows
        return digest.hexdigest()[:16], texts, np.array(classes, dtype=np.int64)


def _fingerprint_digest(model: WeakSentiment) -> Any:
    from python_jobs.text.public_model import base_version

    # the base score (lexicon + public model) is a feature: another base means another model
    return hashlib.sha256(
        f"{WEAK_VERSION}|{base_version()}|{model.max_train}|{model.alpha}|{model.seed}".encode()
    )


def _update(digest: Any, texts: Sequence[str], classes: Sequence[int]) -> None:
    for t, label in zip(texts, classes, strict=True):
        digest.update(f"{label}\x00{t}\x01".encode())


def fingerprint(texts: Sequence[str], classes: np.ndarray, model: WeakSentiment) -> str:
    """Content hash of the training set (in canonical order) and hyperparameters: the artifact's name."""
    digest = _fingerprint_digest(model)
    _update(digest, texts, classes)
    return digest.hexdigest()[:16]


def fit_or_load(
    texts: Sequence[str], ratings: np.ndarray, folder: Path, seed: int = 0
) -> WeakSentiment | None:
    """fit_pairs over these texts and ratings (in any order)."""
    with CanonicalPairs() as pairs:
        pairs.add(texts, star_classes(np.asarray(ratings, dtype=float)))
        return fit_pairs(pairs, folder, seed)


def fit_pairs(pairs: CanonicalPairs, folder: Path, seed: int = 0) -> WeakSentiment | None:
    """The weak model for exactly these (text, stars) pairs: loaded from `folder/<version>.pkl` when that
    training set was fitted before, else fitted (deterministically) and saved there. None with too few ratings."""
    if not enough_classes(pairs.counts):
        log.info("too few star ratings for a weak sentiment model; using the lexicon alone")
        return None
    model = WeakSentiment(seed=seed)
    fp, texts, classes = pairs.fingerprint_and_sample(model)
    path = Path(folder) / f"{WEAK_VERSION}-{fp}.pkl"
    if path.exists():
        return WeakSentiment.load(path)
    model.fit_sample(texts, classes)
    model.fingerprint_, model.n_rated_ = fp, pairs.n
    log.info("weak sentiment model fitted on %d of %d star-rated texts (%s)", len(texts), pairs.n, fp)
    model.save(path)
    return model
