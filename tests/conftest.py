"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_llm_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep `llm` keys, logs and config out of the user's home during tests."""
    monkeypatch.setenv("LLM_USER_PATH", str(tmp_path_factory.mktemp("llm_home")))


def shared_data(*parts: str) -> Path:
    """Path to a real evaluation data set under ../shared/data; tests skip when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path}")
    return path


def dbt_env(
    work: Path, raw: Path | None = None, source_system: str = "synthetic", **overrides: str
) -> dict[str, str]:
    """Environment for an in-process dbt build that reads `raw` and writes only under `work`.

    The warehouse, dbt's target and logs, the LLM cache, model runs and the report all land in `work`, so tests
    never touch the repo's warehouse/ nor collide with each other. `overrides` are extra or replaced variables.
    """
    env = {
        "CHURN_RAW_PATH": str(raw or work / "raw"),
        "CHURN_SOURCE_SYSTEM": source_system,  # the env var wins over the dbt var
        "CHURN_DUCKDB_PATH": str(work / "churn.duckdb"),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
        "CHURN_LLM_CACHE": str(work / "llm_cache.sqlite"),
        "CHURN_MODEL_DIR": str(work / "models"),
        "CHURN_REPORT_PATH": str(work / "report.html"),
    }
    return env | overrides


os.environ.setdefault("DBT_PROFILES_DIR", str(REPO_ROOT))
