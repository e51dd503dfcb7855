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
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ThreadPoolExecutor,
    wait,
)
from functools import partial
from typing import Any

import pyarrow as pa

from python_jobs.progress import Progress
from python_jobs.text import registry
from python_jobs.text.cache import LLMCache, content_hash
from python_jobs.text.calls import is_local, scrub, without_sdk_retries
from python_jobs.text.redact import redact
from python_jobs.text.request import Outcome, TagSettings, cache_version, tag_request
from python_jobs.text.schema import TAG_FIELDS
from python_jobs.text.tally import Tally
from python_jobs.worker_pool import holding_pool, submit_with_held, worker_result

__all__ = ["TagSettings", "Tally", "cache_version", "is_local", "tag_texts"]

log = logging.getLogger(__name__)

# Below this many texts a pool of processes costs more to start (each loads the model) than it saves.
MIN_TEXTS_PER_PROCESS = 5_000


def _request_pool(model: Any, concurrency: int, n_texts: int) -> tuple[Executor, Callable[..., Future], int]:
    """(executor, submit(batch, settings), requests in flight). Threads suit a remote model (they wait on the
    network); a model that computes in Python here and asks for `processes` > 1 (the local tagger: one per
    core) gets that many processes instead, each holding its own copy of the model, once there is enough
    text to repay their start."""
    processes = int(getattr(model, "processes", 1) or 1)
    processes = min(processes, n_texts // MIN_TEXTS_PER_PROCESS)
    if processes > 1:
        pool = holding_pool(model, processes)
        return pool, partial(submit_with_held, pool, tag_request), processes
    pool = ThreadPoolExecutor(max_workers=concurrency)
    return pool, partial(pool.submit, tag_request, model), concurrency


def tag_texts(
    ids: Sequence[str], texts: Sequence[str | None], settings: TagSettings, model: Any = None
) -> tuple[pa.Table, Tally]:
    """Tags for every text: one row per input id with status tagged | quarantined | failed | over_budget.

    `model` overrides the registry lookup of settings.model_id with an `llm.Model` instance (used for the
    local tagger carrying a fitted weak-label model); it must still be called through `model.prompt`.
    """
    model = without_sdk_retries(model if model is not None else registry.get_model(settings.model_id))
    version = cache_version(model)
    local = is_local(settings.model_id)
    # a model may say how it wants to be called (a local LLM: small requests, one at a time)
    per_request = (
        settings.texts_per_request or getattr(model, "texts_per_request", None) or (256 if local else 10)
    )
    concurrency = settings.concurrency or getattr(model, "concurrency", None) or (1 if local else 4)

    redacted = [redact(t) for t in texts]
    hashes = [content_hash(t) for t in redacted]
    unique = dict(zip(hashes, redacted, strict=True))
    tally = Tally(total=len(hashes), unique=len(unique))
    with LLMCache(settings.cache_path) as cache:
        if settings.retry_quarantined:
            cache.clear_quarantine(settings.model_id, version)
        shared: dict[Any, Any] = {}  # one object per repeating tag value (_compact)
        cached = cache.get_tags(list(unique), settings.model_id, version)
        done = {h: _compact(t, shared) for h, t in cached.items()}
        del cached  # the dicts go now, not at the end of the run
        attempts = cache.get_quarantine_attempts(list(unique), settings.model_id, version)
        # a quarantine that used up its attempts stays; younger ones are sent again in this run
        quarantined = {h: (r, "") for h, (r, n) in attempts.items() if n >= settings.max_attempts}
        tally.cached = len(done) + len(quarantined)
        todo = [h for h in unique if h not in done and h not in quarantined]
        if settings.max_texts and len(todo) > settings.max_texts:
            todo = todo[: settings.max_texts]
        tried = set(todo)
        failed: dict[str, str] = {}
        # built as sent, not all at once: a tuple per text to tag is ~0.1 GB at a million texts
        queue = (
            [(h, unique[h]) for h in todo[i : i + per_request]] for i in range(0, len(todo), per_request)
        )
        if todo:
            log.info(
                "tagging %d texts with %s (%d cached) in %d requests",
                len(todo),
                settings.model_id,
                tally.cached,
                -(-len(todo) // per_request),
            )
        progress = Progress(len(todo), f"tagging ({settings.model_id})", unit="texts") if todo else None
        streak, last_error = 0, ""
        pool, submit, in_flight = _request_pool(model, concurrency, len(todo))
        with pool:
            running: dict[Future[Outcome], list[tuple[str, str]]] = {}  # each request's texts
            for batch in queue:
                running[submit(batch, settings)] = batch
                if len(running) >= in_flight * 2:
                    break
            while running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in finished:
                    # tags are kept under this process's hash strings, not the copies a worker's result brings
                    own = {h: h for h, _ in running.pop(fut)}
                    outcome = worker_result(fut, "CHURN_TAG_PROCESSES")  # what is done is in the cache
                    cache.put_tags(outcome.ok.items(), settings.model_id, version)
                    cache.put_quarantine(
                        [(h, r, raw) for h, (r, raw) in outcome.invalid.items()], settings.model_id, version
                    )
                    for h in outcome.invalid:
                        attempts[h] = (outcome.invalid[h][0], attempts.get(h, ("", 0))[1] + 1)
                    done.update((own.get(h, h), _compact(t, shared)) for h, t in outcome.ok.items())
                    quarantined.update(outcome.invalid)
                    failed.update(outcome.failed)
                    tally.sent += len(outcome.ok) + len(outcome.invalid) + len(outcome.failed)
                    tally.requests += outcome.requests
                    tally.retries += outcome.retries
                    tally.input_tokens += outcome.input_tokens
                    tally.output_tokens += outcome.output_tokens
                    if progress:
                        progress.update(len(outcome.ok) + len(outcome.invalid) + len(outcome.failed))
                    if outcome.failed and not outcome.ok and not outcome.invalid:
                        streak, last_error = streak + 1, next(iter(outcome.failed.values()))
                    else:
                        streak = 0
                    if settings.circuit_breaker and streak >= settings.circuit_breaker:
                        continue  # circuit open: submit nothing more
                    nxt = next(queue, None)
                    if nxt is not None:
                        running[submit(nxt, settings)] = nxt
            skipped = [h for batch in queue for h, _ in batch]
        if skipped:
            reason = scrub(f"not sent: {streak} requests in a row failed (last: {last_error})")
            failed.update(dict.fromkeys(skipped, reason))
            log.warning(
                "tag model %s: %s; %d texts left for the next run", settings.model_id, reason, len(skipped)
            )
        if progress:
            progress.close()
    for h, (reason, n) in attempts.items():
        if h in quarantined and h not in done:
            left = settings.max_attempts - n
            note = f"quarantined {n} time(s), retried next run" if left > 0 else f"quarantined {n} time(s)"
            quarantined[h] = (f"{reason} ({note})", quarantined[h][1])
    _count(tally, hashes, unique, done, quarantined, failed, tried)
    log.info("tagging done: %s", tally.line())
    return _tags_table(ids, hashes, done, quarantined, failed, settings.model_id, version), tally


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


def _count(
    tally: Tally,
    hashes: list[str],
    unique: dict[str, str],
    done: dict[str, Any],
    quarantined: dict[str, Any],
    failed: dict[str, str],
    tried: set[str],
) -> None:
    """Row and unique-text counts per outcome (precedence as in _tags_table: tagged, quarantined, failed)."""

    def outcome(h: str) -> str:
        if h in done:
            return "tagged"
        if h in quarantined:
            return "quarantined"
        return "failed" if h in failed else "over_budget"

    rows = [outcome(h) for h in hashes]
    texts = [outcome(h) for h in unique]
    for name in ("tagged", "quarantined", "failed", "over_budget"):
        setattr(tally, name, rows.count(name))
        setattr(tally, f"texts_{name}", texts.count(name))
    tally.attempted = sum(h in tried for h in hashes)
    tally.attempt_failed = sum(h in tried and o != "tagged" for h, o in zip(hashes, rows, strict=True))


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
