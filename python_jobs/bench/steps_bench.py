"""Row-wise Python steps at scale: tagging and scoring in one process (the DuckDB path) vs in Spark tasks.

Inputs are those of a warehouse the build area built (.bench/build/<size>/warehouse/churn.duckdb): fct_reviews,
fct_support_tickets, the score rows of churn_training_set, churn_model_runs and weak_sentiment_model, exported
once to Parquet. Each engine then runs review_tags, ticket_tags and churn_scores in its own subprocess with an
empty response cache (every text is tagged):
- duckdb: steps.run_step over the tables held in the process, as dbt-duckdb's Python models run;
- spark: spark_steps.run_in_partitions in the local Spark session of the `spark` profile (local[*], driver
  memory CHURN_SPARK_MEMORY), the input loaded with `churn load-raw`'s loader first (not timed).
Per step: wall seconds. Per engine: wall, CPU user+sys and peak RSS of the whole process tree (proc_tree: the
JVM and Spark's Python workers included), and the peak RSS of the driver process and of the JVM. The two
engines' output tables are then compared (python_jobs.engines.compare).
`python -m python_jobs.bench --area steps --million` (needs the 1M build of the build area first).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from python_jobs.bench.build_bench import BENCH_DIR, MILLION, measure
from python_jobs.bench.build_results import size_label
from python_jobs.config import REPO_ROOT

log = logging.getLogger(__name__)

STEPS = ("review_tags", "ticket_tags", "churn_scores")
INPUTS = {
    "fct_reviews": "select * from marts.fct_reviews",
    "fct_support_tickets": "select * from marts.fct_support_tickets",
    "churn_training_set": "select * from ml.churn_training_set where split = 'score'",
    "churn_model_runs": "select * from ml.churn_model_runs",
    "weak_sentiment_model": "select * from enrichment.weak_sentiment_model",
}
ENGINES = ("duckdb", "spark")
IGNORED = {"enriched_at"}


def export_inputs(db: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(db), read_only=True) as con:
        for name, sql in INPUTS.items():
            con.execute(f"copy ({sql}) to '{out / name}.parquet' (format parquet)")


def _env(work: Path) -> dict[str, str]:
    return os.environ | {
        "DBT_PROFILES_DIR": str(REPO_ROOT),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
        "CHURN_TARGET": "spark",  # the manifest of a target that runs the steps as jobs
        "CHURN_SPARK_DIR": str(work / "spark"),
        "CHURN_LLM_CACHE": str(work / "llm_cache.sqlite"),
    }


def run_engine(engine: str, inputs: Path, work: Path, out: Path) -> dict:
    """In the subprocess: load the inputs, run the steps, write their tables to out/<step>.parquet."""
    from python_jobs.bench.proc_tree import TreeSampler
    from python_jobs.engines.orchestrate import parsed_manifest
    from python_jobs.engines.steps import python_steps, run_step, table_schemas

    env = _env(work)
    os.environ.update(env)
    manifest = parsed_manifest(None, env)
    steps = python_steps(manifest)
    schemas = table_schemas(manifest, steps)
    result: dict = {"steps": {}}
    with TreeSampler() as tree:
        t0 = time.perf_counter()
        if engine == "spark":
            from python_jobs.engines.commands import warehouse_for
            from python_jobs.engines.spark_steps import run_in_partitions as runner

            warehouse = warehouse_for("spark", env)
        else:
            from python_jobs.engines.warehouse_io import MemoryWarehouse

            warehouse, runner = MemoryWarehouse(), run_step
        for name in INPUTS:
            warehouse.load_parquet(schemas[name], name, inputs / f"{name}.parquet")
        result["load_s"] = time.perf_counter() - t0
        tree.sample()
        cpu0, t0 = tree.cpu_s, time.perf_counter()
        for name in STEPS:
            started = time.perf_counter()
            rows = runner(steps[name], warehouse, schemas)
            result["steps"][name] = {"wall_s": time.perf_counter() - started, "rows": rows}
            log.info("%s %s: %s rows in %.1fs", engine, name, f"{rows:,}", result["steps"][name]["wall_s"])
        tree.sample()
        result |= {"wall_s": time.perf_counter() - t0, "cpu_s": tree.cpu_s - cpu0}
    result["peak_mb"] = {role: v / 2**20 for role, v in tree.peak.items()}
    out.mkdir(parents=True, exist_ok=True)
    for name in STEPS:
        target = out / f"{name}.parquet"
        if engine == "spark":
            warehouse.spark.table(f"`{steps[name].schema}`.`{name}`").write.mode("overwrite").parquet(
                str(target)
            )
        else:
            pq.write_table(warehouse.read(steps[name].schema, name), target)
    return result


def _compare(out: Path) -> dict[str, list[str]]:
    from python_jobs.engines.compare import table_differences

    return {
        name: table_differences(
            pq.read_table(out / "duckdb" / f"{name}.parquet"),
            pq.read_table(out / "spark" / f"{name}.parquet"),
            ignore=IGNORED,
        )
        for name in STEPS
    }


def run_size(size: int, root: Path = BENCH_DIR) -> list[dict]:
    db = root / str(size) / "warehouse" / "churn.duckdb"
    if not db.exists():
        log.error(
            "steps bench %s: no build at %s (run the build area at this size first)", size_label(size), db
        )
        return []
    scratch = root.parent / "steps" / str(size)
    shutil.rmtree(scratch, ignore_errors=True)
    export_inputs(db, scratch / "inputs")
    rows: list[dict] = []
    for engine in ENGINES:
        work, out = scratch / engine, scratch / "out" / engine
        work.mkdir(parents=True)
        cmd = [
            sys.executable,
            "-m",
            "python_jobs.bench.steps_bench",
            engine,
            str(scratch / "inputs"),
            str(work),
        ]
        cmd += [str(out)]
        process = measure(cmd, _env(work), scratch / f"{engine}.log")
        if process["exit_code"] != 0:
            log.error("steps bench %s %s failed: see %s", size_label(size), engine, scratch / f"{engine}.log")
            return rows
        found = json.loads((out / "result.json").read_text())
        case = f"{size_label(size)} {engine}"
        rows += [
            {"area": "steps", "case": case, "metric": f"{step} wall", "value": v["wall_s"], "unit": "s"}
            for step, v in found["steps"].items()
        ]
        rows += [
            {"area": "steps", "case": case, "metric": "steps wall", "value": found["wall_s"], "unit": "s"},
            {
                "area": "steps",
                "case": case,
                "metric": "steps CPU user+sys",
                "value": found["cpu_s"],
                "unit": "s",
            },
            {
                "area": "steps",
                "case": case,
                "metric": "input load wall",
                "value": found["load_s"],
                "unit": "s",
            },
        ]
        rows += [
            {"area": "steps", "case": case, "metric": f"peak RSS {role}", "value": mb, "unit": "MiB"}
            for role, mb in found["peak_mb"].items()
        ]
    for step, problems in _compare(scratch / "out").items():
        log.info("steps bench %s %s: spark vs duckdb: %s", size_label(size), step, problems or "equal")
        rows.append(
            {
                "area": "steps",
                "case": size_label(size),
                "metric": f"{step} columns differing",
                "value": len(problems),
                "unit": "",
            }
        )
    return rows


def run(quick: bool, million: bool = False, sizes: list[int] | None = None) -> list[dict]:
    """The steps at the sizes the build area built: `sizes`, else 1M with `million`, else 20k."""
    chosen = list(sizes or ([MILLION] if million else [20_000]))
    return [row for size in chosen for row in run_size(size)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("engine", choices=ENGINES)
    parser.add_argument("inputs", type=Path)
    parser.add_argument("work", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    result = run_engine(args.engine, args.inputs, args.work, args.out)
    (args.out / "result.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
