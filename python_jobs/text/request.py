"""One tagging request: its settings, the cache version it answers under, and a batch sent, validated and
retried until each text is tagged, invalid (quarantined) or failed (transient, retried next run)."""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from python_jobs import config
from python_jobs.text.calls import call_with_timeout, is_retryable, scrub
from python_jobs.text.prompt import PROMPT_VERSION, SYSTEM_PROMPT, build_prompt
from python_jobs.text.redact import REDACTION_VERSION
from python_jobs.text.schema import SCHEMA_VERSION, batch_schema, validate_tags

log = logging.getLogger(__name__)


@dataclass
class TagSettings:
    model_id: str = "churn-local-tagger"
    cache_path: Path = field(default_factory=config.llm_cache_path)
    texts_per_request: int | None = None  # None: 256 for local models, 10 for remote ones
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
class Outcome:
    ok: dict[str, dict[str, Any]] = field(default_factory=dict)
    invalid: dict[str, tuple[str, str]] = field(default_factory=dict)  # hash -> (reason, raw output)
    failed: dict[str, str] = field(default_factory=dict)  # hash -> transient error
    requests: int = 0
    retries: int = 0
    input_tokens: int = 0
    output_tokens: int = 0


def cache_version(model: Any) -> str:
    """Prompt, schema and redaction versions, plus the model's own version when it declares one."""
    return "|".join(
        v for v in (SCHEMA_VERSION, PROMPT_VERSION, REDACTION_VERSION, getattr(model, "version", "")) if v
    )


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


def tag_request(model: Any, batch: list[tuple[str, str]], settings: TagSettings) -> Outcome:
    """One batch of (hash, text): send, validate, retry what failed, return what came of each text."""
    out = Outcome()
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
