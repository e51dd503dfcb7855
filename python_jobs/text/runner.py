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

import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from python_jobs import config
from python_jobs.progress import Progress
from python_jobs.text import registry
from python_jobs.text.cache import LLMCache, content_hash
from python_jobs.text.prompt import PROMPT_VERSION, SYSTEM_PROMPT, build_prompt
from python_jobs.text.redact import REDACTION_VERSION, redact
from python_jobs.text.schema import SCHEMA_VERSION, TAG_FIELDS, batch_schema, validate_tags

log = logging.getLogger(__name__)

RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504, 529}
_SECRET = re.compile(r"(sk-[A-Za-z0-9_-]{6,}|Bearer\s+\S+|(?i:api[_-]?key)\S*\s*[:=]\s*\S+)")


def scrub(message: str) -> str:
    """Error text safe to log and store: anything that looks like an API key is masked."""
    return _SECRET.sub("[SECRET]", message)[:300]


@dataclass
class TagSettings:
    model_id: str = "churn-local-tagger"
    cache_path: Path = field(default_factory=config.llm_cache_path)
    texts_per_request: int | None = None  # None: 64 for local models, 10 for remote ones
    concurrency: int | None = None  # None: 1 for local models, 4 for remote ones
    max_retries: int = 4  # retries per request after the first attempt
    timeout_s: float = 120.0
    backoff_s: float = 1.0  # first retry waits about this long, doubling each time (with jitter)
    max_texts: int = 0  # budget: at most this many texts sent to the model in this run (0 = no limit)
    retry_quarantined: bool = False
    # runs that may quarantine a text before it stays quarantined (until a version changes)
    max_attempts: int = 3
    # after this many requests in a row fail (transient or not), send nothing more this run (0 = off)
    circuit_breaker: int = 3
    show_progress: bool = True
    weak_sentiment: bool = True  # local tagger only: blend a model fitted on the shop's star ratings


@dataclass
class Tally:
    """What one run did. Row counts (`total`, `tagged`, `quarantined`, `failed`, `over_budget`, ...) count input
    rows; `unique`, `cached`, `sent` and the `texts_*` fields count unique texts (content hashes).
    `requests` counts model calls: real HTTP attempts for OpenAI-compatible models, whose client retries are
    off (`without_sdk_retries`), and `retries` the calls among them that repeated an earlier one."""

    total: int = 0  # rows
    unique: int = 0  # unique texts among them
    cached: int = 0  # texts answered from the cache (tags, or a quarantine that used up its attempts)
    sent: int = 0  # texts handed to the model in this run
    tagged: int = 0  # rows with a good result (new or cached)
    quarantined: int = 0  # rows whose output failed validation (now or in the cache)
    failed: int = 0  # rows left untagged by transient or non-retryable errors (incl. not sent: circuit open)
    over_budget: int = 0  # rows whose text was beyond max_texts
    texts_tagged: int = 0
    texts_quarantined: int = 0
    texts_failed: int = 0
    texts_over_budget: int = 0
    attempted: int = 0  # rows whose text this run tried to get from the model (within budget)
    attempt_failed: int = 0  # of those, rows that got no good result (failed or newly quarantined)
    requests: int = 0
    retries: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    kept_previous: int = 0  # rows whose new result failed and that keep their earlier good one (enrich.py)
    without_result: int = 0  # rows that failed or are quarantined and have no earlier good result (enrich.py)

    def line(self) -> str:
        return (
            f"{self.total:,} rows ({self.unique:,} unique texts): {self.cached:,} texts from cache, "
            f"{self.sent:,} sent in {self.requests:,} requests ({self.retries:,} retries); rows: "
            f"{self.tagged:,} ok, {self.failed:,} failed, {self.quarantined:,} quarantined, "
            f"{self.over_budget:,} over budget, {self.kept_previous:,} kept their previous result, "
            f"{self.without_result:,} without result; ~{self.input_tokens + self.output_tokens:,} tokens"
        )

    @property
    def failure_share(self) -> float:
        """Share of the rows this run tried to enrich that got no good result."""
        return self.attempt_failed / self.attempted if self.attempted else 0.0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class _Outcome:
    ok: dict[str, dict[str, Any]] = field(default_factory=dict)
    invalid: dict[str, tuple[str, str]] = field(default_factory=dict)  # hash -> (reason, raw output)
    failed: dict[str, str] = field(default_factory=dict)  # hash -> transient error
    requests: int = 0
    retries: int = 0
    input_tokens: int = 0
    output_tokens: int = 0


def is_local(model_id: str) -> bool:
    return model_id.startswith("churn-local")


def cache_version(model: Any) -> str:
    """Prompt, schema and redaction versions, plus the model's own version when it declares one."""
    return "|".join(
        v for v in (SCHEMA_VERSION, PROMPT_VERSION, REDACTION_VERSION, getattr(model, "version", "")) if v
    )


def without_sdk_retries(model: Any) -> Any:
    """Switch off the internal retries of a model's OpenAI client (2 by default, invisible to us): the runner
    retries with backoff itself, so every model call is one HTTP attempt and the tally counts them all.
    `llm`'s OpenAI chat models build their client in `get_client`; other models are returned unchanged."""
    get_client = getattr(model, "get_client", None)
    if get_client is None or getattr(model, "_churn_sdk_retries_off", False):
        return model

    def no_retries(*args: Any, **kwargs: Any) -> Any:
        client = get_client(*args, **kwargs)
        return client.with_options(max_retries=0) if hasattr(client, "with_options") else client

    model.get_client = no_retries
    model._churn_sdk_retries_off = True
    return model


def is_retryable(exc: BaseException) -> bool:
    status = getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(status, int):
        return status in RETRYABLE_STATUS or status >= 500
    if isinstance(exc, TimeoutError | ConnectionError):
        return True
    name = type(exc).__name__
    return any(k in name for k in ("Timeout", "Connection", "RateLimit", "ServiceUnavailable", "Overloaded"))


def call_with_timeout(fn: Callable[[], Any], timeout_s: float) -> Any:
    """Run fn in a daemon thread; raise TimeoutError if it has not returned in time (the thread is abandoned)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        raise TimeoutError(f"model call exceeded {timeout_s:g}s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def _parse_items(raw: str) -> tuple[dict[str, Any] | None, str | None]:
    text = raw.strip()
    if text.startswith("```"):  # some chat models wrap JSON in a fence despite the schema
        text = text.strip("`").removeprefix("json").strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON: {exc.msg} at char {exc.pos}"
    if isinstance(data, list):
        data = {"items": data}
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        return None, "response has no 'items' list"
    by_id = {str(item.get("id")): item for item in data["items"] if isinstance(item, dict)}
    return by_id, None


def _tag_request(model: Any, batch: list[tuple[str, str]], settings: TagSettings) -> _Outcome:
    """One batch of (hash, text): send, validate, retry what failed, return what came of each text."""
    out = _Outcome()
    pending = {h: t for h, t in batch}
    reasons: dict[str, tuple[str, str]] = {}
    transient: str | None = None
    schema = batch_schema()
    for attempt in range(settings.max_retries + 1):
        if not pending:
            break
        if attempt:
            out.retries += 1
            if transient:
                time.sleep(settings.backoff_s * (2 ** (attempt - 1)) * (0.5 + random.random()))
        # short positional ids keep the prompt small; map back to hashes afterwards
        ids = {str(i): h for i, h in enumerate(pending)}
        prompt = build_prompt([(i, pending[h]) for i, h in ids.items()])
        out.requests += 1
        try:
            response = model.prompt(prompt, system=SYSTEM_PROMPT, schema=schema)
            raw = call_with_timeout(response.text, settings.timeout_s)
        except Exception as exc:  # noqa: BLE001 - classified below
            if not is_retryable(exc):
                for h in pending:
                    out.failed[h] = scrub(f"{type(exc).__name__}: {exc}")
                log.warning("request failed, not retryable: %s", type(exc).__name__)
                return out
            transient = scrub(f"{type(exc).__name__}: {exc}")
            log.info(
                "request failed (%s), attempt %d/%d",
                type(exc).__name__,
                attempt + 1,
                settings.max_retries + 1,
            )
            continue
        transient = None
        usage = _usage(response)
        out.input_tokens += usage[0] or (len(SYSTEM_PROMPT) + len(prompt)) // 4
        out.output_tokens += usage[1] or len(raw) // 4
        by_id, error = _parse_items(raw)
        if by_id is None:
            for h in pending:
                reasons[h] = (error or "unparseable", raw)
            continue
        for i, h in ids.items():
            tags, error = validate_tags(by_id.get(i)) if i in by_id else (None, "missing from response")
            if tags is not None:
                out.ok[h] = tags
                pending.pop(h)
            else:
                reasons[h] = (error or "invalid", json.dumps(by_id.get(i), ensure_ascii=False)[:2000])
    for h in pending:
        if transient:
            out.failed[h] = transient
        else:
            out.invalid[h] = reasons.get(h, ("no valid output after retries", ""))
    return out


def _usage(response: Any) -> tuple[int, int]:
    try:
        usage = response.usage()
        return int(usage.input or 0), int(usage.output or 0)
    except Exception:  # noqa: BLE001 - usage is optional
        return 0, 0


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
    per_request = settings.texts_per_request or (64 if local else 10)
    concurrency = settings.concurrency or (1 if local else 4)

    redacted = [redact(t) for t in texts]
    hashes = [content_hash(t) for t in redacted]
    unique = dict(zip(hashes, redacted, strict=True))
    tally = Tally(total=len(hashes), unique=len(unique))
    with LLMCache(settings.cache_path) as cache:
        if settings.retry_quarantined:
            cache.clear_quarantine(settings.model_id, version)
        done = cache.get_tags(list(unique), settings.model_id, version)
        attempts = cache.get_quarantine_attempts(list(unique), settings.model_id, version)
        # a quarantine that used up its attempts stays; younger ones are sent again in this run
        quarantined = {h: (r, "") for h, (r, n) in attempts.items() if n >= settings.max_attempts}
        tally.cached = len(done) + len(quarantined)
        todo = [h for h in unique if h not in done and h not in quarantined]
        if settings.max_texts and len(todo) > settings.max_texts:
            todo = todo[: settings.max_texts]
        tried = set(todo)
        failed: dict[str, str] = {}
        batches = [
            [(h, unique[h]) for h in todo[i : i + per_request]] for i in range(0, len(todo), per_request)
        ]
        if batches:
            log.info(
                "tagging %d texts with %s (%d cached) in %d requests",
                len(todo),
                settings.model_id,
                tally.cached,
                len(batches),
            )
        progress = Progress(len(todo), f"tagging ({settings.model_id})", unit="texts") if todo else None
        streak, last_error = 0, ""
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            queue = iter(batches)
            running: set[Future[_Outcome]] = set()
            for batch in queue:
                running.add(pool.submit(_tag_request, model, batch, settings))
                if len(running) >= concurrency * 2:
                    break
            while running:
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for fut in finished:
                    outcome = fut.result()
                    cache.put_tags(outcome.ok.items(), settings.model_id, version)
                    cache.put_quarantine(
                        [(h, r, raw) for h, (r, raw) in outcome.invalid.items()], settings.model_id, version
                    )
                    for h in outcome.invalid:
                        attempts[h] = (outcome.invalid[h][0], attempts.get(h, ("", 0))[1] + 1)
                    done.update(outcome.ok)
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
                        running.add(pool.submit(_tag_request, model, nxt, settings))
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
    done: dict[str, dict[str, Any]],
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
        for f in TAG_FIELDS:
            cols[f].append(tags[f] if tags else None)
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
