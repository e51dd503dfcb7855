"""Paths and settings shared by every job. Environment variables override the defaults."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def env_path(name: str, default: str) -> Path:
    """A path from the environment, relative paths resolved against the current directory."""
    return Path(os.environ.get(name, default)).expanduser().resolve()


def duckdb_path() -> Path:
    return env_path("CHURN_DUCKDB_PATH", "warehouse/churn.duckdb")


def llm_cache_path() -> Path:
    return env_path("CHURN_LLM_CACHE", "warehouse/llm_cache.sqlite")


def model_dir() -> Path:
    return env_path("CHURN_MODEL_DIR", "warehouse/models")


def report_path() -> Path:
    return env_path("CHURN_REPORT_PATH", "warehouse/churn_report.html")
