"""dbt hands a Python model only the config keys its code names in literal `dbt.config.get("...")` calls (it
reads them from the model's source); passing `dbt.config.get` along, to be called with a variable key, gets
None for every key, and the model silently runs on defaults."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from python_jobs.config import REPO_ROOT

MODELS = sorted((REPO_ROOT / "models").rglob("*.py"))


def _config_get(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "get"
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "config"
    )


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_python_models_name_every_config_key_literally(path: Path) -> None:
    tree = ast.parse(path.read_text())
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call) and _config_get(n.func)}
    passed_along = [n.lineno for n in ast.walk(tree) if _config_get(n) and id(n) not in called]
    assert not passed_along, f"{path.name}:{passed_along}: dbt.config.get passed along, not called with a key"
    literal = [
        n.args[0].value
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and _config_get(n.func) and n.args and isinstance(n.args[0], ast.Constant)
    ]
    variable = [
        n.lineno
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and _config_get(n.func)
        and not (n.args and isinstance(n.args[0], ast.Constant))
    ]
    assert not variable, f"{path.name}:{variable}: dbt.config.get with a non-literal key"
    assert all(isinstance(k, str) for k in literal)


def test_the_keys_the_voice_model_reads_are_in_its_config() -> None:
    spec = yaml.safe_load((REPO_ROOT / "models/marts/voice/_voice__models.yml").read_text())
    config = next(m for m in spec["models"] if m["name"] == "customer_voice_embedding_pcs")["config"]
    assert {"voice_pc_components", "random_seed", "model_dir"} <= set(config)
