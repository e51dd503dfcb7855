"""Row-wise Python steps inside Spark: the step's model file runs in executor tasks, not on the driver.

A step whose config declares meta.row_input (tags, embeddings, scores: each output row depends on its own input
row alone) never collects its rows to the driver. The input rows are hashed on the row key into buckets of about
CHURN_SPARK_ROWS_PER_TASK rows (default 50,000); each bucket's task runs the same `model(dbt, session)` as
steps.run_step, with a stand-in `dbt` whose ref(row_input) holds the bucket's rows, whose `this` holds the step's
earlier rows for the same keys (cogrouped on the bucket) and whose other refs are the step's small side tables
(the weak sentiment model's registry row, the churn run), shipped with the task. Only those side tables, the
output schema and one tally per task pass through the driver.

The tasks' rows are written once to a parts table; the merge (earlier rows not re-enriched and still upstream,
then the new ones) is Spark SQL, swapped in by name as every step is. Each task's enrichment tally rides in a
column of its first row and is summed into the step's one enrichment_runs row. Model artifacts (the churn run,
the weak model) are read by path, and the response cache is a SQLite file: on a cluster, point model_dir and
CHURN_LLM_CACHE at storage every executor can reach (local mode shares the machine's disk).
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from python_jobs.engines.steps import Step, ThisRelation, append_run_log, model_rows, run_log
from python_jobs.engines.warehouse_io import MemoryWarehouse, SparkWarehouse, plain_type
from python_jobs.text.enrich import tag_settings
from python_jobs.text.runs import COLUMNS, RunLog
from python_jobs.text.tally import Tally

log = logging.getLogger(__name__)

ROWS_PER_TASK = 50_000
BUCKET = "__churn_bucket"
RUN_LOG = "__churn_run_log"  # a task's enrichment_runs rows (JSON), on its first row


def rows_per_task() -> int:
    return int(os.environ.get("CHURN_SPARK_ROWS_PER_TASK") or ROWS_PER_TASK)


def _arrow_schema(spark_schema: Any) -> pa.Schema:
    """Spark's schema as Arrow, timestamps naive as the steps see them on every other engine."""
    from pyspark.sql.pandas.types import to_arrow_schema

    return pa.schema(
        pa.field(f.name, pa.timestamp("us") if pa.types.is_timestamp(f.type) else f.type)
        for f in to_arrow_schema(spark_schema)
        if f.name != BUCKET
    )


def _from_pandas(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    if frame.empty:  # a cogroup side with no rows in this bucket comes without columns
        return schema.empty_table()
    return pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)


def _budget_share(max_texts: int, buckets: int, bucket: int) -> int:
    """Bucket `bucket`'s part of a text budget: the parts sum to max_texts (there are never more buckets)."""
    return max_texts // buckets + (1 if bucket < max_texts % buckets else 0)


@dataclass
class _Task:
    """What one executor task needs, pickled with it (the side tables are small)."""

    step: Step
    schemas: dict[str, str]
    sides: dict[str, pa.Table]
    rows_schema: pa.Schema
    earlier_schema: pa.Schema | None
    output_schema: pa.Schema
    buckets: int
    max_texts: int

    def run(self, bucket: int, rows: pd.DataFrame, earlier: pd.DataFrame | None) -> pd.DataFrame:
        """The model's rows for one bucket (incremental: the new or changed ones) and its tally row."""
        step = self.step
        os.environ["CHURN_TAG_PROCESSES"] = "1"  # a task is already one of Spark's parallel slots
        if self.max_texts:
            share = _budget_share(self.max_texts, self.buckets, bucket)
            step = replace(step, config={**step.config, "max_texts": str(share)})
        tables = {(self.schemas[n], n): t for n, t in self.sides.items()}
        tables[(self.schemas[step.row_input], step.row_input)] = _from_pandas(rows, self.rows_schema)
        if earlier is not None:
            tables[(step.schema, step.name)] = _from_pandas(earlier, self.earlier_schema)
        with duckdb.connect() as session:
            result = model_rows(step, MemoryWarehouse(tables), session, self.schemas)[1]
            runs = run_log(session, step.schema)
        out = result.select(self.output_schema.names).cast(self.output_schema).to_pandas()
        tally = json.dumps(runs.to_pylist(), default=str) if runs is not None else None
        if len(out):  # the tally rides on the first row
            out[RUN_LOG] = [tally] + [None] * (len(out) - 1)
            return out
        # no rows: one row with only the tally (its key is null, which no data row's is)
        return pd.DataFrame({c: [None] for c in out.columns} | {RUN_LOG: [tally]}).iloc[
            : int(tally is not None)
        ]


def _output_schema(
    step: Step, sides: dict[str, pa.Table], schemas: dict[str, str], rows: pa.Schema
) -> pa.Schema:
    """The step's output columns and types: its model run on the driver over no input rows."""
    tables = {(schemas[n], n): t for n, t in sides.items()}
    tables[(schemas[step.row_input], step.row_input)] = rows.empty_table()
    with duckdb.connect() as session:
        result = model_rows(step, MemoryWarehouse(tables), session, schemas, full_refresh=True)[1]
    return pa.schema(pa.field(f.name, plain_type(f.type)) for f in result.schema)


def _name(schema: str, table: str) -> str:
    return f"`{schema}`.`{table}`"


def run_in_partitions(
    step: Step, warehouse: SparkWarehouse, schemas: dict[str, str], full_refresh: bool = False
) -> int:
    """Run a row-wise step in Spark tasks and swap in its table; returns the rows written."""
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    started = time.perf_counter()
    spark, key = warehouse.spark, step.row_key
    rows = spark.table(_name(schemas[step.row_input], step.row_input))
    if step.row_filter:
        rows = rows.where(step.row_filter)
    sides = {n: warehouse.read(schemas[n], n) for n in step.refs if n != step.row_input}
    incremental = step.incremental and not full_refresh and warehouse.exists(step.schema, step.name)
    earlier = spark.table(_name(step.schema, step.name)) if incremental else None
    n_rows = rows.count()
    max_texts = tag_settings(step.config.get).max_texts if "max_texts" in step.config else 0
    buckets = max(1, math.ceil(n_rows / rows_per_task()))
    if max_texts:
        buckets = min(buckets, max_texts)
    rows_schema = _arrow_schema(rows.schema)
    output_schema = _output_schema(step, sides, schemas, rows_schema)
    task = _Task(
        step,
        schemas,
        sides,
        rows_schema,
        _arrow_schema(earlier.schema) if earlier is not None else None,
        output_schema,
        buckets,
        max_texts,
    )

    def bucketed(frame: Any) -> Any:
        return frame.withColumn(BUCKET, F.pmod(F.xxhash64(F.col(key).cast("string")), F.lit(buckets)))

    produced_schema = from_arrow_schema(output_schema.append(pa.field(RUN_LOG, pa.string())))
    grouped = bucketed(rows).groupBy(BUCKET)
    if earlier is None:
        produced = grouped.applyInPandas(lambda key, rows: task.run(int(key[0]), rows, None), produced_schema)
    else:
        produced = grouped.cogroup(bucketed(earlier).groupBy(BUCKET)).applyInPandas(
            lambda key, rows, earlier: task.run(int(key[0]), rows, earlier), produced_schema
        )
    log.info(
        "python step %s.%s in Spark: %s %s rows in %d tasks",
        step.schema,
        step.name,
        f"{n_rows:,}",
        step.row_input,
        buckets,
    )
    parts = _name(step.schema, f"{step.name}__churn_parts")
    spark.sql(f"create database if not exists `{step.schema}`")
    spark.sql(f"drop table if exists {parts}")
    produced.write.format("parquet").saveAsTable(parts)  # the tasks run once, here
    try:
        produced = spark.table(parts)
        new = produced.where(F.col(key).isNotNull()).drop(RUN_LOG)
        logs = produced.where(F.col(RUN_LOG).isNotNull()).select(RUN_LOG).collect()
        if earlier is not None:  # delete+insert on the key, and rows whose input row is gone leave
            kept = earlier.join(new.select(key), key, "left_anti").join(rows.select(key), key, "left_semi")
            new = kept.unionByName(new, allowMissingColumns=True)
        written = warehouse.replace_frame(step.schema, step.name, new)
    finally:
        spark.sql(f"drop table if exists {parts}")
    if logs:
        _log_run(step, warehouse, [r for (j,) in logs for r in json.loads(j)])
    log.info(
        "python step %s.%s: %s rows in %.1fs",
        step.schema,
        step.name,
        f"{written:,}",
        time.perf_counter() - started,
    )
    return written


def _log_run(step: Step, warehouse: SparkWarehouse, runs: list[dict[str, Any]]) -> None:
    """The tasks' tallies summed into the step's one enrichment_runs row and log line. texts_* count unique
    texts per task: a text repeated in two buckets counts twice."""
    tally = Tally(**{attr: sum(int(r[c] or 0) for r in runs) for c, _, attr in COLUMNS if attr})
    with duckdb.connect() as session:
        session.execute(f'create schema "{step.schema}"')
        run = RunLog(session, ThisRelation(step.schema, step.name))
        run.started_at = min(datetime.fromisoformat(r["started_at"]) for r in runs)
        run.finish(tally, runs[0]["llm_model"], sum(int(r["source_rows"]) for r in runs))
        append_run_log(session, warehouse, step.schema)
