"""Run the project's Python models as jobs, for engines where dbt cannot (PostgreSQL, Spark session).

The step is the same file dbt would run (models/**/<name>.py, its `model(dbt, session)`), called with a stand-in
for dbt's `dbt` object: `ref()` reads the warehouse table into a local DuckDB session (Arrow, through
warehouse_io), `config.get()` returns the model's config as dbt parsed it, and `this` / `is_incremental` point at
the step's existing table, loaded likewise. The result goes back to the warehouse in one swap (a failure leaves
the previous table), merged by unique_key for incremental steps, as dbt's delete+insert would.
"""

from __future__ import annotations

import importlib.util
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from python_jobs.config import REPO_ROOT
from python_jobs.engines.warehouse_io import Warehouse
from python_jobs.text.runs import TABLE as ENRICHMENT_RUNS
from python_jobs.warehouse import table_exists

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Step:
    unique_id: str
    name: str
    schema: str
    path: Path
    refs: tuple[str, ...]
    config: dict[str, Any]

    @property
    def incremental(self) -> bool:
        return self.config.get("materialized") == "incremental"

    @property
    def row_input(self) -> str | None:
        """meta.row_input: the ref whose rows this step maps one by one (each output row depends on its own
        input row alone, so the step may run over any split of them: engines/spark_steps.py)."""
        return (self.config.get("meta") or {}).get("row_input")

    @property
    def row_key(self) -> str:
        """The key an output row shares with its input row: meta.row_key, else unique_key."""
        return (self.config.get("meta") or {}).get("row_key") or self.config["unique_key"]

    @property
    def row_filter(self) -> str | None:
        """meta.row_filter: SQL on row_input selecting the rows the model reads (it filters them itself too)."""
        return (self.config.get("meta") or {}).get("row_filter")


def python_steps(manifest: dict[str, Any]) -> dict[str, Step]:
    """The Python models dbt did not enable on this target (dbt_project.yml `&python_step`), by name."""
    steps = {}
    for unique_id, versions in manifest.get("disabled", {}).items():
        node = versions[0]
        if node.get("resource_type") == "model" and node.get("language") == "python":
            steps[node["name"]] = Step(
                unique_id=unique_id,
                name=node["name"],
                schema=node["schema"],
                path=REPO_ROOT / node["original_file_path"],
                refs=tuple(dict.fromkeys(r["name"] for r in node["refs"])),
                config=node["config"],
            )
    return steps


def table_schemas(manifest: dict[str, Any], steps: dict[str, Step]) -> dict[str, str]:
    """Relation name -> schema of every model and seed (and step) a step may ref."""
    schemas = {
        n["name"]: n["schema"] for n in manifest["nodes"].values() if n["resource_type"] in ("model", "seed")
    }
    return schemas | {s.name: s.schema for s in steps.values()}


class _Config:
    def __init__(self, config: dict[str, Any]) -> None:
        self._config = config

    def get(self, key: str, default: Any = None) -> Any:
        return self._config.get(key, default)

    def __call__(self, **_: Any) -> None:
        """dbt.config(materialized=...) in the model: the manifest already holds it."""


@dataclass(frozen=True)
class ThisRelation:
    """dbt.this for a step: the table in the local session (no database part: the session's own catalog)."""

    schema: str
    identifier: str
    database: None = None

    def __str__(self) -> str:
        return f'"{self.schema}"."{self.identifier}"'


class JobDbt:
    """What a dbt Python model's `dbt` argument offers, backed by a warehouse and a local DuckDB session."""

    def __init__(
        self,
        step: Step,
        warehouse: Warehouse,
        session: duckdb.DuckDBPyConnection,
        schemas: dict[str, str],
        full_refresh: bool = False,
    ) -> None:
        self.step, self.warehouse, self.session, self.schemas = step, warehouse, session, schemas
        self.config = _Config(step.config)
        self.this = ThisRelation(step.schema, step.name)
        # side tables (enrichment_runs) go to the step's schema
        session.execute(f'create schema if not exists "{step.schema}"')
        self.is_incremental = (
            step.incremental and not full_refresh and warehouse.exists(step.schema, step.name)
        )
        if self.is_incremental:
            self._load(step.schema, step.name)

    def _load(self, schema: str, name: str) -> duckdb.DuckDBPyRelation:
        if not table_exists(self.session, schema, name):
            copy_to_session(self.session, schema, name, self.warehouse.read(schema, name))
        return self.session.table(f'"{schema}"."{name}"')

    def ref(self, name: str) -> duckdb.DuckDBPyRelation:
        if name not in self.schemas:
            raise KeyError(f"step {self.step.name} refs unknown model or seed {name!r}")
        return self._load(self.schemas[name], name)


def copy_to_session(session: duckdb.DuckDBPyConnection, schema: str, name: str, data: pa.Table) -> None:
    """`data` as table <schema>.<name> of a local DuckDB session."""
    session.register("_incoming", data)
    session.execute(f'create schema if not exists "{schema}"')
    session.execute(f'create table "{schema}"."{name}" as select * from _incoming')
    session.unregister("_incoming")


def _as_arrow(result: Any) -> pa.Table:
    if isinstance(result, duckdb.DuckDBPyRelation):
        return result.to_arrow_table()
    if isinstance(result, pd.DataFrame):
        return pa.Table.from_pandas(result, preserve_index=False)
    if isinstance(result, pa.Table):
        return result
    if isinstance(result, pa.RecordBatchReader):
        return result.read_all()
    raise TypeError(
        f"a Python step returned {type(result).__name__}; expected a relation, DataFrame, Arrow table or reader"
    )


def _load_model(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"churn_step_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.model


def model_rows(
    step: Step,
    warehouse: Warehouse,
    session: duckdb.DuckDBPyConnection,
    schemas: dict[str, str],
    full_refresh: bool = False,
) -> tuple[JobDbt, pa.Table]:
    """The rows the step's model file returns (when incremental: only the new or changed ones)."""
    dbt = JobDbt(step, warehouse, session, schemas, full_refresh=full_refresh)
    return dbt, _as_arrow(_load_model(step.path)(dbt, session))


def run_model(
    step: Step,
    warehouse: Warehouse,
    session: duckdb.DuckDBPyConnection,
    schemas: dict[str, str],
    full_refresh: bool = False,
) -> pa.Table:
    """The step's rows as its model file computes them, merged into its earlier rows when incremental."""
    dbt, result = model_rows(step, warehouse, session, schemas, full_refresh=full_refresh)
    if not dbt.is_incremental:
        return result
    key = step.config["unique_key"]
    session.register("result", result)
    # dbt's delete+insert: earlier rows whose key came back are replaced; new columns are appended. A row-wise
    # step also drops earlier rows whose input row is gone (the post-hook that does it on DuckDB is DuckDB SQL).
    gone = ""
    if step.row_input:
        dbt.ref(step.row_input)  # loaded into the session, if the model has not
        source = f'"{schemas[step.row_input]}"."{step.row_input}"'
        kept = f" where {step.row_filter}" if step.row_filter else ""
        gone = f" and cast({key} as varchar) in (select cast({key} as varchar) from {source}{kept})"
    return session.sql(
        f"select * from {dbt.this} where {key} not in (select {key} from result){gone}"
        " union all by name select * from result"
    ).to_arrow_table()


def run_step(step: Step, warehouse: Warehouse, schemas: dict[str, str], full_refresh: bool = False) -> int:
    """Run one step and write its table; returns the rows written."""
    started = time.perf_counter()
    session = duckdb.connect()
    result = run_model(step, warehouse, session, schemas, full_refresh=full_refresh)
    warehouse.replace(step.schema, step.name, result)
    append_run_log(session, warehouse, step.schema)
    session.close()
    log.info(
        "python step %s.%s: %s rows in %.1fs",
        step.schema,
        step.name,
        f"{result.num_rows:,}",
        time.perf_counter() - started,
    )
    return result.num_rows


def run_log(session: duckdb.DuckDBPyConnection, schema: str) -> pa.Table | None:
    """The enrichment_runs rows the step's model wrote in the session (python_jobs.text.runs), if any."""
    if table_exists(session, schema, ENRICHMENT_RUNS):
        return session.table(f'"{schema}"."{ENRICHMENT_RUNS}"').to_arrow_table()
    return None


def append_run_log(session: duckdb.DuckDBPyConnection, warehouse: Warehouse, schema: str) -> None:
    """Enrichment steps append their tally to <schema>.enrichment_runs in the warehouse."""
    runs = run_log(session, schema)
    if runs is not None:
        warehouse.append(schema, ENRICHMENT_RUNS, runs)
