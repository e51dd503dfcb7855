"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from python_jobs.config import isolated_build_env

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


# dbt args that build the enrichment models and what they need, without the tests of unselected models.
ENRICHMENT_SELECT = [
    "--select",
    "+review_tags",
    "+ticket_tags",
    "+review_embeddings",
    "--indirect-selection",
    "cautious",
]


def dbt_env(
    work: Path, raw: Path | None = None, source_system: str = "synthetic", **overrides: str
) -> dict[str, str]:
    """Environment for an in-process dbt build that reads `raw` and writes only under `work`.

    The warehouse, dbt's target and logs, the LLM cache, model runs and the report all land in `work`, so tests
    never touch the repo's warehouse/ nor collide with each other. `overrides` are extra or replaced variables.
    """
    env = isolated_build_env(work, raw or work / "raw", source_system)
    return env | overrides


E2E_CUSTOMERS = 1_500


@pytest.fixture(scope="session")
def e2e_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One full `dbt build` (every model and test) of a tiny generated world, shared by the e2e tests.

    PII is planted in every raw free-text column first (tests/python/pii.py), so the same build also proves
    that none of it reaches the warehouse, logs, caches or the report. The report is rendered into it too.
    Returns the work folder (churn.duckdb, logs/, llm_cache.sqlite, models/, report.html, raw/).
    """
    from pii import plant_pii

    from python_jobs.dbt_runner import run_dbt
    from python_jobs.report.commands import render_report
    from python_jobs.synth import generate_world

    root = tmp_path_factory.mktemp("e2e")
    generate_world(E2E_CUSTOMERS, 3, root / "raw", progress=False)
    plant_pii(root / "raw")
    env = dbt_env(root)
    run_dbt(["build"], project_dir=REPO_ROOT, env=env)
    render_report(db=root / "churn.duckdb", out=root / "report.html", raw_path=root / "raw")
    return root


os.environ.setdefault("DBT_PROFILES_DIR", str(REPO_ROOT))
