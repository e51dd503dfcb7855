"""The one seam between Python steps and a warehouse that dbt does not run Python in: tables in and out as Arrow.

PostgreSQL goes through ADBC (libpq, COPY in binary: a 525k-row table reads or writes in well under a second).
Connection settings are the ones profiles.yml's `postgres` target reads (CHURN_PG_*).
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq


class Warehouse(Protocol):
    def exists(self, schema: str, table: str) -> bool: ...

    def read(self, schema: str, table: str) -> pa.Table: ...

    def row_count(self, schema: str, table: str) -> int: ...

    def replace(self, schema: str, table: str, data: pa.Table) -> None: ...

    def append(self, schema: str, table: str, data: pa.Table) -> None: ...

    def load_parquet(self, schema: str, table: str, path: Path) -> None: ...


class MemoryWarehouse:
    """The protocol over a dict of Arrow tables: a Spark task's inputs (engines/spark_steps.py), and tests."""

    def __init__(self, tables: dict[tuple[str, str], pa.Table] | None = None) -> None:
        self.tables = dict(tables or {})

    def exists(self, schema: str, table: str) -> bool:
        return (schema, table) in self.tables

    def read(self, schema: str, table: str) -> pa.Table:
        return self.tables[(schema, table)]

    def row_count(self, schema: str, table: str) -> int:
        return self.tables[(schema, table)].num_rows

    def replace(self, schema: str, table: str, data: pa.Table | pa.RecordBatchReader) -> None:
        self.tables[(schema, table)] = data if isinstance(data, pa.Table) else data.read_all()

    def append(self, schema: str, table: str, data: pa.Table) -> None:
        old = self.tables.get((schema, table))
        self.tables[(schema, table)] = data if old is None else pa.concat_tables([old, data])

    def load_parquet(self, schema: str, table: str, path: Path) -> None:
        self.replace(schema, table, pq.read_table(path))


def _quote(*parts: str) -> str:
    return ".".join('"' + p.replace('"', '""') + '"' for p in parts)


def postgres_uri(env: dict[str, str] | None = None) -> str:
    e = {**os.environ, **(env or {})}
    user, password = e.get("CHURN_PG_USER", "churn"), e.get("CHURN_PG_PASSWORD", "")
    auth = f"{user}:{password}@" if password else f"{user}@"
    return (
        f"postgresql://{auth}{e.get('CHURN_PG_HOST', '127.0.0.1')}:{e.get('CHURN_PG_PORT', '5432')}"
        f"/{e.get('CHURN_PG_DATABASE', 'churn')}"
    )


class PostgresWarehouse:
    def __init__(self, uri: str | None = None) -> None:
        import adbc_driver_postgresql.dbapi as adbc

        self.conn = adbc.connect(uri or postgres_uri())

    def close(self) -> None:
        self.conn.close()

    def exists(self, schema: str, table: str) -> bool:
        with self._reading() as cur:
            cur.execute(
                "select count(*) from information_schema.tables where table_schema = $1 and table_name = $2",
                parameters=(schema, table),
            )
            return cur.fetchone()[0] > 0

    def read(self, schema: str, table: str) -> pa.Table:
        with self._reading() as cur:
            cur.execute(f"select * from {_quote(schema, table)}")
            return _without_metadata(cur.fetch_arrow_table())

    def row_count(self, schema: str, table: str) -> int:
        with self._reading() as cur:
            cur.execute(f"select count(*) from {_quote(schema, table)}")
            return int(cur.fetchone()[0])

    @contextmanager
    def _reading(self):
        """A cursor whose transaction ends with the read: DB-API opens one implicitly, and an open one keeps
        its locks, so dbt's next rename or drop of a table read here would wait forever."""
        try:
            with self.conn.cursor() as cur:
                yield cur
        finally:
            self.conn.rollback()

    def replace(self, schema: str, table: str, data: pa.Table | pa.RecordBatchReader) -> None:
        """Swap in the new table in one transaction: readers see the old table or the new one, and a failure
        leaves the old one in place. A RecordBatchReader streams (COPY) without holding the table."""
        staging = f"{table}__churn_new"
        with self.conn.cursor() as cur:
            cur.execute(f"create schema if not exists {_quote(schema)}")
            cur.execute(f"drop table if exists {_quote(schema, staging)}")
            cur.adbc_ingest(staging, data, mode="create", db_schema_name=schema)
            cur.execute(f"drop table if exists {_quote(schema, table)}")
            cur.execute(f"alter table {_quote(schema, staging)} rename to {_quote(table)}")
        self.conn.commit()

    def append(self, schema: str, table: str, data: pa.Table) -> None:
        with self.conn.cursor() as cur:
            cur.execute(f"create schema if not exists {_quote(schema)}")
            cur.adbc_ingest(table, data, mode="create_append", db_schema_name=schema)
        self.conn.commit()

    def load_parquet(self, schema: str, table: str, path: Path, batch_rows: int = 500_000) -> None:
        parquet = pq.ParquetFile(path)
        batches = parquet.iter_batches(batch_size=batch_rows)
        self.replace(schema, table, pa.RecordBatchReader.from_batches(parquet.schema_arrow, batches))


def _without_metadata(table: pa.Table) -> pa.Table:
    """Drop the driver's per-field type metadata (POSTGRESQL:type), which would otherwise ride along into
    every frame and table built from this one. PostgreSQL numeric arrives as text (arbitrary precision): the
    steps compute in floats, so it becomes float64."""
    columns, fields = [], []
    for field, column in zip(table.schema, table.columns, strict=True):
        if (field.metadata or {}).get(b"POSTGRESQL:type") == b"numeric":
            column = column.cast(pa.float64())
        columns.append(column)
        fields.append(pa.field(field.name, plain_type(column.type), field.nullable))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields)) if fields else table


def plain_type(t: pa.DataType) -> pa.DataType:
    """The type without field metadata; fixed-size lists (DuckDB FLOAT[d]) as plain lists."""
    if pa.types.is_list(t) or pa.types.is_fixed_size_list(t) or pa.types.is_large_list(t):
        return pa.list_(plain_type(t.value_type))
    return t


def spark_workers_use_this_python() -> None:
    """Spark's Python workers (row-wise steps' tasks) run this interpreter, with its packages, unless
    PYSPARK_PYTHON says otherwise. Read when the session starts: call before it does."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


class SparkWarehouse:
    """Tables of the Spark session dbt-spark's `session` method opened in this process (getOrCreate returns it).

    Steps read a table to the driver through Arrow and write one back with saveAsTable; row-wise steps (tags,
    embeddings, scores) run in executor tasks instead (engines/spark_steps.py) and write with replace_frame."""

    def __init__(self) -> None:
        from pyspark.sql import SparkSession

        self.spark = SparkSession.builder.getOrCreate()

    def exists(self, schema: str, table: str) -> bool:
        return self.spark.catalog.tableExists(f"{schema}.{table}")

    def read(self, schema: str, table: str) -> pa.Table:
        return pa.Table.from_pandas(self.spark.table(f"{schema}.{table}").toPandas(), preserve_index=False)

    def row_count(self, schema: str, table: str) -> int:
        return self.spark.table(f"`{schema}`.`{table}`").count()

    def replace(self, schema: str, table: str, data: pa.Table) -> None:
        self.replace_frame(schema, table, self._frame(data))

    def replace_frame(self, schema: str, table: str, frame: Any) -> int:
        """Write a Spark DataFrame beside the old table and swap the names (a failure leaves the old table);
        returns the rows written."""
        self.spark.sql(f"create database if not exists `{schema}`")
        staging = f"`{schema}`.`{table}__churn_new`"
        self.spark.sql(f"drop table if exists {staging}")
        frame.write.format("parquet").saveAsTable(staging)
        self.spark.sql(f"drop table if exists `{schema}`.`{table}`")
        self.spark.sql(f"alter table {staging} rename to `{schema}`.`{table}`")
        return self.spark.table(f"`{schema}`.`{table}`").count()

    def _frame(self, arrow: pa.Table):
        """A Spark DataFrame with the Arrow table's types (from pandas alone, an all-null column has no type)."""
        from pyspark.sql.pandas.types import from_arrow_schema

        arrow = arrow.cast(
            pa.schema([pa.field(f.name, plain_type(f.type), f.nullable) for f in arrow.schema])
        )
        return self.spark.createDataFrame(arrow.to_pandas(), schema=from_arrow_schema(arrow.schema))

    def load_parquet(self, schema: str, table: str, path: Path) -> None:
        """Spark reads the file itself (no trip through the driver)."""
        self.spark.sql(f"create database if not exists `{schema}`")
        frame = self.spark.read.parquet(str(Path(path).resolve()))
        frame.write.format("parquet").mode("overwrite").saveAsTable(f"`{schema}`.`{table}`")

    def append(self, schema: str, table: str, data: pa.Table) -> None:
        self.spark.sql(f"create database if not exists `{schema}`")
        self._frame(data).write.format("parquet").mode("append").saveAsTable(f"`{schema}`.`{table}`")
