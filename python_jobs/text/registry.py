"""Thread-safe model lookup. `llm.load_plugins()` marks plugins as loaded before it registers them, so two
dbt threads resolving models at once can see an empty registry; one lock around the lookup avoids that."""

from __future__ import annotations

import threading
from typing import Any

import llm

_LOCK = threading.Lock()


def get_model(model_id: str) -> Any:
    with _LOCK:
        return llm.get_model(model_id)


def get_embedding_model(model_id: str) -> Any:
    with _LOCK:
        return llm.get_embedding_model(model_id)
