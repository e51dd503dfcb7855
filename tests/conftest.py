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


os.environ.setdefault("DBT_PROFILES_DIR", str(REPO_ROOT))
