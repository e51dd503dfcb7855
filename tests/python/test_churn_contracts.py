"""The Arrow tables of the churn Python models take their columns and types from the YAML contracts."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
import yaml
from churn_fakes import LOGREG, demo_specs

from python_jobs.churn import adapter, contracts, demo_frame, run, run_table

PYTHON_MODELS = (
    "churn_model_runs",
    "churn_scores",
    "churn_model_metrics",
    "churn_model_curves",
    "customer_segments",
)
FAST = run.Settings(n_boot=20, candidates=(LOGREG,))


def _yaml_columns(model: str) -> list[tuple[str, str]]:
    doc = yaml.safe_load(contracts.ML_CONTRACTS.read_text(encoding="utf-8"))
    (entry,) = [m for m in doc["models"] if m["name"] == model]
    return [(c["name"], c["data_type"].lower()) for c in entry["columns"]]


@pytest.mark.parametrize("model", PYTHON_MODELS)
def test_schema_is_the_yaml_contract(model: str) -> None:
    schema = contracts.arrow_schema(model)
    assert [(f.name, f.type) for f in schema] == [
        (name, contracts.ARROW_TYPES[dtype]) for name, dtype in _yaml_columns(model)
    ]


def test_a_column_added_to_the_yaml_reaches_the_schema(tmp_path: Path) -> None:
    doc = yaml.safe_load(contracts.ML_CONTRACTS.read_text(encoding="utf-8"))
    for m in doc["models"]:
        if m["name"] == "churn_model_curves":
            m["columns"].append({"name": "new_column", "data_type": "double"})
    path = tmp_path / "_ml__models.yml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    schema = contracts.arrow_schema("churn_model_curves", path)
    assert schema.field("new_column").type == pa.float64()
    assert schema.names[:-1] == contracts.arrow_schema("churn_model_curves").names


def test_an_unknown_type_or_model_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "_ml__models.yml"
    path.write_text(
        yaml.safe_dump({"models": [{"name": "m", "columns": [{"name": "c", "data_type": "hugeint"}]}]}),
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="hugeint"):
        contracts.arrow_schema("m", path)
    with pytest.raises(KeyError):
        contracts.arrow_schema("not_a_model", path)


def test_adapter_tables_carry_the_contract_schema(tmp_path: Path) -> None:
    frame = demo_frame.make_frame(n_customers=400, n_snapshots=9, seed=3)
    specs = demo_specs()
    fitted = run.fit(frame, specs, FAST)
    tables = {
        "churn_model_runs": run_table.runs_table(fitted, True, tmp_path / "run.pkl"),
        "churn_scores": adapter.scores_table(fitted, frame, {}),
        "churn_model_metrics": adapter.metrics_table(fitted),
        "churn_model_curves": adapter.curves_table(fitted),
    }
    for model, table in tables.items():
        assert table.schema.equals(contracts.arrow_schema(model)), model
        assert table.num_rows > 0, model
