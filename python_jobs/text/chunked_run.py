"""What a tagging run and an embedding run over chunks share (runner.TagRun, embed.EmbedRun): each chunk's texts
redacted and hashed, the texts the run has met (each counted once), the budget across chunks, progress in rows."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from python_jobs.progress import Progress
from python_jobs.text.cache import content_hash
from python_jobs.text.redact import redact
from python_jobs.text.tally import Tally


class SeenTexts:
    """The texts a run has met, by content hash, as sorted 64-bit prefixes: 8 bytes a text where a set of the hex
    strings takes ~150. Two texts sharing a prefix (odds ~n^2/2^65) would only blur the run's counts, never a
    result."""

    def __init__(self) -> None:
        self.keys = np.empty(0, np.uint64)

    @staticmethod
    def of(hashes: Sequence[str]) -> np.ndarray:
        return np.fromiter((int(h[:16], 16) for h in hashes), np.uint64, len(hashes))

    def has(self, keys: np.ndarray) -> np.ndarray:
        if not len(self.keys):
            return np.zeros(len(keys), bool)
        return self.keys[np.searchsorted(self.keys, keys).clip(max=len(self.keys) - 1)] == keys

    def add(self, keys: np.ndarray) -> None:
        new = np.unique(keys)
        new = new[~self.has(new)]
        self.keys = np.insert(self.keys, np.searchsorted(self.keys, new), new)  # a merge: no sort of all keys


class ChunkedRun:
    """The state a run keeps across chunks besides its model's: `tally`, the texts met (`seen`) and sent or
    skipped (`tried`), the budget left (None: no budget), the failed requests in a row (`streak`, against
    `circuit_breaker`: 0 = off) and a progress line over `total_rows` rows."""

    def __init__(
        self, max_texts: int, circuit_breaker: int, total_rows: int, label: str, tally: Tally | None = None
    ) -> None:
        self.tally = tally if tally is not None else Tally()
        self.seen, self.tried = SeenTexts(), SeenTexts()
        self.budget = max_texts or None
        self.circuit_breaker, self.streak = circuit_breaker, 0
        self.total_rows, self.label = total_rows, label
        self.progress: Progress | None = None

    @property
    def circuit_open(self) -> bool:
        """So many requests in a row failed that nothing more is sent in this run."""
        return bool(self.circuit_breaker) and self.streak >= self.circuit_breaker

    def chunk_texts(self, texts: Sequence[str | None]) -> tuple[list[str], dict[str, str], dict[str, bool]]:
        """Each text's content hash (of its redacted text), the redacted texts by hash, and for each of those
        whether no earlier chunk had it."""
        redacted = [redact(t) for t in texts]
        hashes = [content_hash(t) for t in redacted]
        unique = dict(zip(hashes, redacted, strict=True))
        keys = SeenTexts.of(list(unique))
        first = dict(zip(unique, (~self.seen.has(keys)).tolist(), strict=True))
        self.seen.add(keys)
        return hashes, unique, first

    def within_budget(self, todo: list[str], rows: int) -> list[str]:
        """The texts of `todo` the budget left still allows, marked tried; the progress line counts the chunk's
        `rows` but those (they count as they come back)."""
        if self.budget is not None:
            todo, self.budget = todo[: self.budget], max(self.budget - len(todo), 0)
        self.tried.add(SeenTexts.of(todo))
        if self.progress is None and self.total_rows:
            self.progress = Progress(self.total_rows, self.label, unit="rows")
        self.advance(rows - len(todo))
        return todo

    def count(self, hashes: list[str], first: dict[str, bool], outcome: Callable[[str], str]) -> list[str]:
        """Add a chunk's rows per outcome (a Tally field: tagged | quarantined | failed | over_budget) and its
        texts no earlier chunk had; attempted: its rows whose text this run tried, attempt_failed: those of them
        not tagged. Returns each row's outcome."""
        tally = self.tally
        rows = [outcome(h) for h in hashes]
        texts = [outcome(h) for h, f in first.items() if f]
        tally.total += len(hashes)
        tally.unique += len(texts)
        for name in ("tagged", "quarantined", "failed", "over_budget"):
            setattr(tally, name, getattr(tally, name) + rows.count(name))
            setattr(tally, f"texts_{name}", getattr(tally, f"texts_{name}") + texts.count(name))
        tried = self.tried.has(SeenTexts.of(hashes))
        tally.attempted += int(tried.sum())
        tally.attempt_failed += sum(t and o != "tagged" for t, o in zip(tried, rows, strict=True))
        return rows

    def advance(self, rows: int) -> None:
        if self.progress:
            self.progress.update(rows)

    def close_progress(self) -> None:
        if self.progress:
            self.progress.close()
