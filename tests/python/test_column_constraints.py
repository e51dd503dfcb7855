"""Column rules are declared as column `constraints` and checked by one `column_constraints` test per model
(macros/tests/test_column_constraints.sql): a model that declares constraints without the test would go
unchecked on engines that do not enforce them, and a per-column not_null/accepted_range/accepted_values test
would bring back one dbt node per column."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from python_jobs.config import REPO_ROOT

PROPERTIES = sorted((REPO_ROOT / "models").rglob("_*__models.yml"))
PER_COLUMN = {"not_null", "accepted_range", "accepted_values"}


def _test_name(test: str | dict) -> str:
    return test if isinstance(test, str) else next(iter(test))


def _quoted_values(test: str | dict) -> bool:
    """accepted_values with a quote in a value stays a test: it escapes the quote for each engine, while a check
    expression is SQL as written (Spark reads 'Can''t' as 'Can' 't')."""
    values = (
        ((test.get("accepted_values") or {}).get("arguments") or {}).get("values", [])
        if isinstance(test, dict)
        else []
    )
    return any("'" in str(v) for v in values)


def _models(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text()).get("models") or []


@pytest.mark.parametrize("path", PROPERTIES, ids=lambda p: p.stem)
def test_models_with_constraints_apply_the_column_constraints_test(path: Path) -> None:
    for model in _models(path):
        columns = model.get("columns") or []
        constrained = [c["name"] for c in columns if c.get("constraints")] or model.get("constraints")
        tests = {_test_name(t) for t in model.get("data_tests") or []}
        if constrained:
            assert "column_constraints" in tests, (
                f"{path.name}: {model['name']} declares constraints on {constrained}"
            )
        for column in columns:
            per_column = PER_COLUMN & {
                _test_name(t) for t in column.get("data_tests") or [] if not _quoted_values(t)
            }
            assert not per_column, (
                f"{path.name}: {model['name']}.{column['name']} has {sorted(per_column)}: declare it as a constraint"
            )


def test_the_projects_models_declare_constraints() -> None:
    """Guards the test above against passing on files it no longer finds."""
    columns = [c for p in PROPERTIES for m in _models(p) for c in m.get("columns") or []]
    assert sum(bool(c.get("constraints")) for c in columns) > 100
