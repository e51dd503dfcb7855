"""Paths and settings shared by every job. Environment variables override the defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RAW_PATH = "data/raw/synthetic"  # dbt_project.yml var raw_path


def env_path(name: str, default: str) -> Path:
    """A path from the environment, relative paths resolved against the current directory."""
    return Path(os.environ.get(name, default)).expanduser().resolve()


def raw_path(vars: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> Path:
    """The raw shop files a DuckDB build reads: env CHURN_RAW_PATH, else the raw_path dbt var, else the default
    in dbt_project.yml (the same order as the sources' external_location)."""
    found = (env if env is not None else os.environ).get("CHURN_RAW_PATH") or (vars or {}).get("raw_path")
    return Path(found or DEFAULT_RAW_PATH).expanduser().resolve()


def duckdb_path() -> Path:
    return env_path("CHURN_DUCKDB_PATH", "warehouse/churn.duckdb")


def llm_cache_path() -> Path:
    return env_path("CHURN_LLM_CACHE", "warehouse/llm_cache.sqlite")


def model_dir() -> Path:
    return env_path("CHURN_MODEL_DIR", "warehouse/models")


def report_path() -> Path:
    return env_path("CHURN_REPORT_PATH", "warehouse/churn_report.html")


def isolated_build_env(work: Path, raw: Path, source_system: str = "synthetic") -> dict[str, str]:
    """Variables of a build that reads `raw` and writes only under `work`: the warehouse, dbt's target and
    logs, the LLM cache, model runs and the report (tests and benchmarks never touch warehouse/)."""
    return {
        "CHURN_RAW_PATH": str(raw),
        "CHURN_SOURCE_SYSTEM": source_system,  # the env var wins over the dbt var
        "CHURN_DUCKDB_PATH": str(work / "churn.duckdb"),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
        "CHURN_LLM_CACHE": str(work / "llm_cache.sqlite"),
        "CHURN_MODEL_DIR": str(work / "models"),
        "CHURN_REPORT_PATH": str(work / "report.html"),
    }
