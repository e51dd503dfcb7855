"""Arrow schemas of the Python models' tables, read from their YAML contracts (models/ml/_ml__models.yml).

The YAML is the one place a column and its type are stated: dbt documents and tests it (the
`churn_python_contract` test compares the built types with it), and the adapter builds its Arrow tables from it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pyarrow as pa
import yaml

ML_CONTRACTS = Path(__file__).resolve().parents[2] / "models" / "ml" / "_ml__models.yml"
# YAML data_type -> Arrow type (DuckDB names, as the contracts spell them).
ARROW_TYPES = {
    "varchar": pa.string(),
    "date": pa.date32(),
    "double": pa.float64(),
    "bigint": pa.int64(),
    "integer": pa.int32(),
    "boolean": pa.bool_(),
    "timestamp": pa.timestamp("us"),
}


@cache
def _models(path: Path) -> dict[str, list[dict]]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {m["name"]: m.get("columns", []) for m in doc["models"]}


def arrow_schema(model: str, path: Path = ML_CONTRACTS) -> pa.Schema:
    """The contracted columns of `model`, in YAML order, as an Arrow schema."""
    columns = _models(path).get(model)
    if not columns:
        raise KeyError(f"{model}: no contracted columns in {path}")
    fields = []
    for col in columns:
        dtype = str(col.get("data_type", "")).lower()
        if dtype not in ARROW_TYPES:
            raise ValueError(
                f"{model}.{col['name']}: data_type {dtype!r} has no Arrow type (add it to ARROW_TYPES)"
            )
        fields.append(pa.field(col["name"], ARROW_TYPES[dtype]))
    return pa.schema(fields)
