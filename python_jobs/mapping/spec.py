"""A mapping file: how a user's export (CSV or Parquet files) fills the raw contract of one source system.

The contract (tables, columns, types, which are required) is read from the source system's sources YAML
(models/staging/<system>/_<system>__sources.yml), so it is written down once. A mapping only says where each
contract table comes from and which column or SQL expression fills each contract column, with format hints:

    name: my_shop                  # warehouse/my_shop.duckdb, warehouse/my_shop_report.html (default: file stem)
    source_system: synthetic       # synthetic = one file per contract table | online_retail = invoice lines
    currency: EUR                  # shown in the report (dbt var currency)
    formats: {date_format: "%d.%m.%Y", decimal: ",", thousands: ".", currency_symbol: "€"}   # every table
    vars: {churn_horizon_days: 60} # dbt vars of this warehouse (--vars on the command line wins)
    tables:
      orders:
        file: export/orders_*.csv  # file or glob, relative to --raw-path
        formats: {...}             # this table's hints (override the top-level ones); csv: DuckDB read_csv options
        columns:
          order_id: OrderNo                                  # a column of the file
          ordered_at: {column: Date, date_format: "%d/%m/%Y %H:%M"}
          status: {sql: "case when Cancelled then 'cancelled' else 'completed' end"}   # a DuckDB expression

A contract column not listed is taken from a file column of the same name (any case) when there is one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from python_jobs import config
from python_jobs.config import REPO_ROOT

SOURCE_SYSTEMS = ("synthetic", "online_retail")
FORMAT_KEYS = ("date_format", "decimal", "thousands", "currency_symbol")
NUMBER_TYPES = ("double", "integer", "bigint")


class MappingError(ValueError):
    """The mapping file itself is malformed (not the data it points at)."""


@dataclass(frozen=True)
class ContractColumn:
    name: str
    data_type: str

    @property
    def is_number(self) -> bool:
        return self.data_type.lower() in NUMBER_TYPES

    @property
    def is_timestamp(self) -> bool:
        return self.data_type.lower() == "timestamp"


@dataclass(frozen=True)
class ContractTable:
    name: str
    columns: tuple[ContractColumn, ...]
    required: bool
    required_columns: tuple[str, ...]

    def column(self, name: str) -> ContractColumn | None:
        return next((c for c in self.columns if c.name == name), None)


def project_vars() -> dict[str, Any]:
    """The dbt vars' defaults (dbt_project.yml), for messages and thresholds outside dbt."""
    doc = yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text(encoding="utf-8"))
    return dict(doc.get("vars") or {})


def load_contract(source_system: str) -> dict[str, ContractTable]:
    """The raw contract of a source system, from its sources YAML (the one place it is written down)."""
    path = REPO_ROOT / "models" / "staging" / source_system / f"_{source_system}__sources.yml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    (source,) = doc["sources"]
    tables = {}
    for t in source["tables"]:
        meta = t.get("meta") or {}
        tables[t["name"]] = ContractTable(
            name=t["name"],
            columns=tuple(ContractColumn(c["name"], c["data_type"]) for c in t["columns"]),
            required=bool(meta.get("required")),
            required_columns=tuple(meta.get("required_columns") or ()),
        )
    return tables


@dataclass(frozen=True)
class ColumnSpec:
    """How one contract column is filled: a file column, or a SQL expression over the file's columns."""

    column: str | None = None
    sql: str | None = None
    formats: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TableSpec:
    name: str
    file: str
    columns: dict[str, ColumnSpec]
    formats: dict[str, Any]
    csv: dict[str, Any]
    listed: bool  # named in the mapping (a missing file is then an error, even for an optional table)


@dataclass(frozen=True)
class Mapping:
    name: str
    source_system: str
    tables: dict[str, TableSpec]
    contract: dict[str, ContractTable]
    vars: dict[str, Any]
    currency: str | None
    path: Path | None

    def warehouse_path(self) -> Path:
        """warehouse/<name>.duckdb (env CHURN_DUCKDB_PATH wins); its working files go in the folder beside it
        of the same name (contract-shaped raw files, the check's scratch build, model artifacts)."""
        return config.env_path("CHURN_DUCKDB_PATH", f"warehouse/{self.name}.duckdb")

    def dbt_vars(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """The mapping's dbt vars (with source_system and currency), command-line vars winning."""
        base: dict[str, Any] = {"source_system": self.source_system, **self.vars}
        if self.currency:
            base["currency"] = self.currency
        return base | (overrides or {})


def _formats(raw: Any, where: str) -> dict[str, Any]:
    raw = raw or {}
    if not isinstance(raw, dict):
        raise MappingError(f"{where}: formats must be a mapping of {', '.join(FORMAT_KEYS)}")
    unknown = sorted(set(raw) - set(FORMAT_KEYS) - {"csv"})
    if unknown:
        raise MappingError(f"{where}: unknown format hint(s) {unknown}; known: {', '.join(FORMAT_KEYS)}, csv")
    return {k: v for k, v in raw.items() if k != "csv" and v is not None}


def _column_spec(value: Any, where: str) -> ColumnSpec:
    if isinstance(value, str):
        return ColumnSpec(column=value)
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"column", "sql", *FORMAT_KEYS})
        if unknown or ("column" in value) == ("sql" in value):
            raise MappingError(
                f"{where}: give either `column: NAME` or `sql: EXPRESSION` (plus optional "
                f"{', '.join(FORMAT_KEYS)}){'; unknown keys ' + str(unknown) if unknown else ''}"
            )
        hints = {k: value[k] for k in FORMAT_KEYS if value.get(k) is not None}
        return ColumnSpec(column=value.get("column"), sql=value.get("sql"), formats=hints)
    raise MappingError(f"{where}: expected a column name or {{column: ...}} / {{sql: ...}}, got {value!r}")


def parse_mapping(doc: dict[str, Any] | None, name: str = "churn", path: Path | None = None) -> Mapping:
    """A Mapping from the YAML document; `None` (no mapping file) = files named after the contract tables."""
    doc = doc or {}
    where = str(path or "mapping")
    unknown = sorted(set(doc) - {"name", "source_system", "currency", "formats", "vars", "tables"})
    if unknown:
        raise MappingError(f"{where}: unknown key(s) {unknown}")
    system = doc.get("source_system", "synthetic")
    if system not in SOURCE_SYSTEMS:
        raise MappingError(
            f"{where}: source_system must be one of {', '.join(SOURCE_SYSTEMS)}, not {system!r}"
        )
    contract = load_contract(system)
    top = doc.get("formats") or {}
    top_formats, top_csv = _formats(top, f"{where}: formats"), dict(top.get("csv") or {})
    listed = doc.get("tables")
    if listed is None:
        listed = {}
        default_all = True
    else:
        default_all = False
    if not isinstance(listed, dict):
        raise MappingError(f"{where}: tables must map contract table names to {{file: ..., columns: ...}}")
    unknown_tables = sorted(set(listed) - set(contract))
    if unknown_tables:
        raise MappingError(
            f"{where}: unknown table(s) {unknown_tables} for source_system {system}; "
            f"contract tables: {', '.join(contract)}"
        )
    tables = {}
    for tname, table in contract.items():
        if tname not in listed and not (default_all or table.required):
            continue  # an optional table the mapping leaves out: its features are off
        spec = listed.get(tname) or {}
        if not isinstance(spec, dict):
            raise MappingError(f"{where}: tables.{tname} must be {{file: ..., columns: ...}}")
        bad = sorted(set(spec) - {"file", "columns", "formats"})
        if bad:
            raise MappingError(f"{where}: tables.{tname}: unknown key(s) {bad} (file, columns, formats)")
        columns_doc = spec.get("columns") or {}
        unknown_cols = sorted(set(columns_doc) - {c.name for c in table.columns})
        if unknown_cols:
            raise MappingError(
                f"{where}: tables.{tname}.columns: {unknown_cols} not in the contract; "
                f"contract columns: {', '.join(c.name for c in table.columns)}"
            )
        fmt = spec.get("formats") or {}
        tables[tname] = TableSpec(
            name=tname,
            file=str(spec.get("file") or f"{tname}.parquet"),
            columns={
                c: _column_spec(v, f"{where}: tables.{tname}.columns.{c}") for c, v in columns_doc.items()
            },
            formats=top_formats | _formats(fmt, f"{where}: tables.{tname}.formats"),
            csv=top_csv | dict(fmt.get("csv") or {}),
            listed=tname in listed,
        )
    warehouse_name = str(doc.get("name") or name)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", warehouse_name):
        raise MappingError(
            f"{where}: name {warehouse_name!r} must be letters, digits, '_', '.' or '-' (a file name)"
        )
    return Mapping(
        name=warehouse_name,
        source_system=system,
        tables=tables,
        contract=contract,
        vars=dict(doc.get("vars") or {}),
        currency=doc.get("currency"),
        path=path,
    )


def load_mapping(path: Path | None) -> Mapping:
    """Read a mapping file; no file = the raw contract as is (customers.parquet, orders.parquet, ...)."""
    if path is None:
        return parse_mapping(None)
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise MappingError(f"cannot read mapping {path}: {exc}") from exc
    if doc is not None and not isinstance(doc, dict):
        raise MappingError(f"{path}: expected a YAML mapping at the top level")
    return parse_mapping(doc, name=Path(path).stem, path=Path(path))
