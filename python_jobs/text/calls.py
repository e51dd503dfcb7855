"""Calling a model safely: which errors are transient, a hard timeout per call, no hidden SDK retries,
and error text scrubbed of anything that looks like an API key before it is logged or stored."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504, 529}
_SECRET = re.compile(r"(sk-[A-Za-z0-9_-]{6,}|Bearer\s+\S+|(?i:api[_-]?key)\S*\s*[:=]\s*\S+)")


def scrub(message: str) -> str:
    """Error text safe to log and store: anything that looks like an API key is masked."""
    return _SECRET.sub("[SECRET]", message)[:300]


def is_local(model_id: str) -> bool:
    """The package's own offline tagger family (lexicon + public model, optionally the weak model)."""
    return model_id.startswith("churn-local")


def runs_here(model_id: str) -> bool:
    """A model computed on this machine (the local tagger or a local LLM, `local_llm`): no key, no fee, and
    its speed is worth timing on an empty cache."""
    return is_local(model_id) or model_id.startswith("churn-llm-")


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
