"""Tag many texts with any `llm` model: redact, dedupe, cache, batch, retry, quarantine, budget, progress.

The local tagger and a remote chat model go through exactly this code. Per request: several texts fenced
as data (`prompt.build_prompt`), `model.prompt(..., schema=batch_schema())`, output validated per text.
Transient failures (timeouts, 429, 5xx, connection errors) are retried with exponential backoff and, if
they persist, leave the text untagged for the next run; after `circuit_breaker` requests in a row fail
that way, the rest is not sent (failed, retried next run) so a dead endpoint costs seconds, not hours. Output
that stays invalid after retries is quarantined in the cache with its reason and re-sent on later runs until
it has been quarantined `max_attempts` times (or `retry_quarantined` clears it). Results are committed to the
cache as each request finishes, so a crash resumes where it stopped. The OpenAI client's own retries are
switched off (`without_sdk_retries`): these retries are the only ones, so `Tally.requests` counts real HTTP
attempts.

A run (`TagRun`) takes its texts in chunks, so a caller streaming a million rows holds one chunk's texts and
Python objects at a time: a text seen in an earlier chunk comes back from the cache (or from the run's own
record of its failure), is never sent twice, and is counted once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from functools import partial
from typing import Any

import pyarrow as pa

from python_jobs.text import registry
from python_jobs.text.cache import LLMCache
from python_jobs.text.calls import is_local, scrub, without_sdk_retries
from python_jobs.text.chunked_run import ChunkedRun
from python_jobs.text.request import Outcome, TagSettings, cache_version, tag_request
from python_jobs.text.schema import TAG_FIELDS
from python_jobs.text.tally import Tally
from python_jobs.worker_pool import holding_pool, submit_with_held, worker_result

__all__ = ["TagRun", "TagSettings", "Tally", "cache_version", "is_local", "tag_texts"]

log = logging.getLogger(__name__)

# Below this many texts a pool of processes costs more to start (each loads the model) than it saves.
MIN_TEXTS_PER_PROCESS = 5_000


def tag_texts(
    ids: Sequence[str], texts: Sequence[str | None], settings: TagSettings, model: Any = None
) -> tuple[pa.Table, Tally]:
    """Tags for every text: one row per input id with status tagged | quarantined | failed | over_budget.

    `model` overrides the registry lookup of settings.model_id with an `llm.Model` instance (used for the
    local tagger carrying a fitted weak-label model); it must still be called through `model.prompt`.
    """
    with TagRun(settings, model, total_rows=len(ids)) as run:
        table = run.tag(ids, texts)
    return table, run.tally


class TagRun(ChunkedRun):
    """One tagging run: `tag(ids, texts)` per chunk returns that chunk's tags table; `tally` adds them up (final
    when the run is closed). Open it with `with`: it holds the response cache and the request pool."""

    def __init__(self, settings: TagSettings, model: Any = None, total_rows: int = 0) -> None:
        self.settings = settings
        self.model = without_sdk_retries(
            model if model is not None else registry.get_model(settings.model_id)
        )
        self.version = cache_version(self.model)
        local = is_local(settings.model_id)
        # a model may say how it wants to be called (a local LLM: small requests, one at a time)
        self.per_request = (
            settings.texts_per_request
            or getattr(self.model, "texts_per_request", None)
            or (256 if local else 10)
        )
        self.concurrency = (
            settings.concurrency or getattr(self.model, "concurrency", None) or (1 if local else 4)
        )
        super().__init__(
            settings.max_texts, settings.circuit_breaker, total_rows, f"tagging ({settings.model_id})"
        )
        self.shared: dict[Any, Any] = {}  # one object per repeating tag value (_compact)
        # texts this run failed or quarantined: a later chunk repeats the outcome instead of sending them again
        self.failed: dict[str, str] = {}
        self.quarantined: dict[str, tuple[str, str]] = {}
        self.last_error, self.skipped = "", 0
        self.pool: Executor | None = None
        self.submit: Callable[..., Future] | None = None
        self.in_flight = 0

    def __enter__(self) -> TagRun:
        self.cache = LLMCache(self.settings.cache_path).__enter__()
        if self.settings.retry_quarantined:
            self.cache.clear_quarantine(self.settings.model_id, self.version)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        self.cache.__exit__(*exc)
        self.close_progress()
        if self.skipped:
            log.warning(
                "tag model %s: %s; %d texts left for the next run",
                self.settings.model_id,
                self._open_reason(),
                self.skipped,
            )
        log.info("tagging done: %s", self.tally.line())

    def _open_reason(self) -> str:
        return scrub(f"not sent: {self.streak} requests in a row failed (last: {self.last_error})")

    def tag(self, ids: Sequence[str], texts: Sequence[str | None]) -> pa.Table:
        """This chunk's tags, one row per id, in order."""
        settings, model_id, version = self.settings, self.settings.model_id, self.version
        hashes, unique, first = self.chunk_texts(texts)
        done = {
            h: _compact(t, self.shared)
            for h, t in self.cache.get_tags(list(unique), model_id, version).items()
        }
        attempts = self.cache.get_quarantine_attempts(list(unique), model_id, version)
        # a quarantine that used up its attempts stays; younger ones are sent again (once a run)
        quarantined = {h: (r, "") for h, (r, n) in attempts.items() if n >= settings.max_attempts}
        quarantined |= {h: self.quarantined[h] for h in unique if h in self.quarantined}
        failed = {h: self.failed[h] for h in unique if h in self.failed and h not in done}
        self.tally.cached += sum(first[h] and (h in done or h in quarantined) for h in unique)
        todo = [h for h in unique if h not in done and h not in quarantined and h not in failed]
        todo = self.within_budget(todo, len(hashes))
        if todo:
            log.info(
                "tagging %d texts with %s (%d of %d rows from cache or an earlier chunk)",
                len(todo),
                model_id,
                len(hashes) - len(todo),
                len(hashes),
            )
            self._send(todo, unique, done, quarantined, failed, attempts)
        for h, (reason, n) in attempts.items():
            if h in quarantined and h not in done:
                left = settings.max_attempts - n
                note = (
                    f"quarantined {n} time(s), retried next run" if left > 0 else f"quarantined {n} time(s)"
                )
                quarantined[h] = (f"{reason} ({note})", quarantined[h][1])

        def outcome(h: str) -> str:  # precedence as in _tags_table
            if h in done:
                return "tagged"
            if h in quarantined:
                return "quarantined"
            return "failed" if h in failed else "over_budget"

        self.count(hashes, first, outcome)
        return _tags_table(ids, hashes, done, quarantined, failed, model_id, version)

    def _pool(self, n_texts: int) -> None:
        """Threads suit a remote model (they wait on the network); a model that computes in Python here and asks
        for `processes` > 1 (the local tagger: one per core) gets that many processes instead, each holding its
        own copy of the model, once a chunk has enough text to repay their start. Kept for later chunks."""
        processes = min(int(getattr(self.model, "processes", 1) or 1), n_texts // MIN_TEXTS_PER_PROCESS)
        if self.pool is not None and (processes <= 1 or isinstance(self.pool, ProcessPoolExecutor)):
            return
        if self.pool is not None:
            self.pool.shutdown(wait=True)
        if processes > 1:
            self.pool = holding_pool(self.model, processes)
            self.submit, self.in_flight = partial(submit_with_held, self.pool, tag_request), processes
        else:
            self.pool = ThreadPoolExecutor(max_workers=self.concurrency)
            self.submit, self.in_flight = partial(self.pool.submit, tag_request, self.model), self.concurrency

    def _send(
        self,
        todo: list[str],
        unique: dict[str, str],
        done: dict[str, tuple[Any, ...]],
        quarantined: dict[str, tuple[str, str]],
        failed: dict[str, str],
        attempts: dict[str, tuple[str, int]],
    ) -> None:
        """Send `todo` in requests, a few in flight, filling done / quarantined / failed as each returns."""
        settings, tally, step = self.settings, self.tally, self.per_request
        # built as sent, not all at once: a tuple per text to tag is ~0.1 GB at a million texts
        queue = ([(h, unique[h]) for h in todo[i : i + step]] for i in range(0, len(todo), step))
        running: dict[Future[Outcome], list[tuple[str, str]]] = {}  # each request's texts
        if not self.circuit_open:
            self._pool(len(todo))
            for batch in queue:
                running[self.submit(batch, settings)] = batch
                if len(running) >= self.in_flight * 2:
                    break
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                # tags are kept under this process's hash strings, not the copies a worker's result brings
                own = {h: h for h, _ in running.pop(fut)}
                outcome = worker_result(fut, "CHURN_TAG_PROCESSES")  # what is done is in the cache
                self.cache.put_tags(outcome.ok.items(), settings.model_id, self.version)
                self.cache.put_quarantine(
                    [(h, r, raw) for h, (r, raw) in outcome.invalid.items()], settings.model_id, self.version
                )
                for h in outcome.invalid:
                    attempts[h] = (outcome.invalid[h][0], attempts.get(h, ("", 0))[1] + 1)
                done.update((own.get(h, h), _compact(t, self.shared)) for h, t in outcome.ok.items())
                quarantined.update(outcome.invalid)
                failed.update(outcome.failed)
                self.quarantined.update(outcome.invalid)
                self.failed.update(outcome.failed)
                tally.sent += len(outcome.ok) + len(outcome.invalid) + len(outcome.failed)
                tally.requests += outcome.requests
                tally.retries += outcome.retries
                tally.input_tokens += outcome.input_tokens
                tally.output_tokens += outcome.output_tokens
                self.advance(len(outcome.ok) + len(outcome.invalid) + len(outcome.failed))
                if outcome.failed and not outcome.ok and not outcome.invalid:
                    self.streak, self.last_error = self.streak + 1, next(iter(outcome.failed.values()))
                else:
                    self.streak = 0
                if self.circuit_open:
                    continue  # circuit open: submit nothing more
                nxt = next(queue, None)
                if nxt is not None:
                    running[self.submit(nxt, settings)] = nxt
        skipped = [h for batch in queue for h, _ in batch]
        if skipped:  # the circuit is open: left for the next run
            failed.update(dict.fromkeys(skipped, self._open_reason()))
            self.skipped += len(skipped)
            self.advance(len(skipped))


# fields whose values repeat across texts (a few labels, languages and topic sets): held once each
_SHARED_FIELDS = frozenset({"sentiment_label", "topics", "language"})


def _compact(tags: dict[str, Any], shared: dict[Any, Any]) -> tuple[Any, ...]:
    """A text's tags as a tuple in TAG_FIELDS order (topics a tuple), each repeating value one object kept in
    `shared`: held as dicts, a run's tags took about 0.7 KB per text (1.3M reviews: ~0.9 GB)."""
    values = []
    for f in TAG_FIELDS:
        value = tags[f]
        if f in _SHARED_FIELDS:
            value = tuple(value) if isinstance(value, list) else value
            value = shared.setdefault(value, value)
        values.append(value)
    return tuple(values)


def _tags_table(
    ids: Sequence[str],
    hashes: list[str],
    done: dict[str, tuple[Any, ...]],
    quarantined: dict[str, tuple[str, str]],
    failed: dict[str, str],
    model_id: str,
    version: str,
) -> pa.Table:
    cols: dict[str, list[Any]] = {f: [] for f in TAG_FIELDS}
    status, reason = [], []
    for h in hashes:
        tags = done.get(h)
        if tags is not None:
            status.append("tagged")
            reason.append(None)
        elif h in quarantined:
            status.append("quarantined")
            reason.append(quarantined[h][0])
        elif h in failed:
            status.append("failed")
            reason.append(failed[h])
        else:
            status.append("over_budget")
            reason.append(None)
        for i, f in enumerate(TAG_FIELDS):
            cols[f].append(tags[i] if tags else None)
    n = len(hashes)
    return pa.table(
        {
            "text_id": pa.array([str(i) for i in ids], pa.string()),
            "content_hash": pa.array(hashes, pa.string()),
            "tag_model": pa.array([model_id] * n, pa.string()),
            "tag_version": pa.array([version] * n, pa.string()),
            "tag_status": pa.array(status, pa.string()),
            "status_reason": pa.array(reason, pa.string()),
            "sentiment": pa.array(cols["sentiment"], pa.float64()),
            "sentiment_label": pa.array(cols["sentiment_label"], pa.string()),
            "topics": pa.array(cols["topics"], pa.list_(pa.string())),
            "churn_intent": pa.array(cols["churn_intent"], pa.bool_()),
            "intensity": pa.array(cols["intensity"], pa.float64()),
            "language": pa.array(cols["language"], pa.string()),
            "evidence": pa.array(cols["evidence"], pa.string()),
        }
    )
