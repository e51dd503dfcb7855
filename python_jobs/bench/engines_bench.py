"""One world built on each engine (issue 11): raw load and full build, wall, CPU and memory side by side.

`python -m python_jobs.bench --area engines` builds a 20k-customer world (`--quick`: 3k; `--customers N`),
generated once under .bench/engines/<N>/raw, on every engine this machine can run, each in its own subprocess:
- duckdb: `dbt build` into a fresh DuckDB file, the Python models in dbt's process (what `churn build` runs);
- postgres: a throwaway PostgreSQL server (engines/postgres_server.py: fsync off, loopback), the raw world
  loaded through `churn load-raw`'s loader, then `churn build`'s engine path (dbt waves, steps as jobs);
- spark: the same in the local Spark session of the `spark` profile (row-wise steps in Spark tasks).
Per engine: raw load wall, build wall, CPU user+sys of the process tree (proc_tree: the JVM and Spark's Python
workers included) plus, for PostgreSQL, the server's processes, which pg_ctl detaches from the tree and are
sampled from the postmaster; peak RSS of the tree and of the server. An engine that cannot run here (no
PostgreSQL binaries, no pyspark or Java) is logged and left out.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from python_jobs.bench.build_bench import measure
from python_jobs.bench.build_results import size_label
from python_jobs.config import REPO_ROOT, isolated_build_env

log = logging.getLogger(__name__)

ENGINES = ("duckdb", "postgres", "spark")
DEFAULT_SIZE, QUICK_SIZE, SEED = 20_000, 3_000, 42
BENCH_DIR = REPO_ROOT / ".bench" / "engines"


def _engine_env(engine: str, raw: Path, work: Path) -> dict[str, str]:
    env = isolated_build_env(work, raw) | {"DBT_PROFILES_DIR": str(REPO_ROOT)}
    if engine == "spark":
        env |= {"CHURN_TARGET": "spark", "CHURN_SPARK_DIR": str(work / "spark")}
    return env


def build_on(engine: str, raw: Path, work: Path) -> dict:
    """In the subprocess: load the raw world into `engine` and build the whole DAG there."""
    from python_jobs.bench.proc_tree import TreeSampler
    from python_jobs.dbt_runner import run_dbt

    env = _engine_env(engine, raw, work)
    os.environ.update(env)
    result: dict = {"load_s": 0.0}
    with ExitStack() as stack:
        tree = stack.enter_context(TreeSampler())
        server = None
        if engine == "duckdb":
            t0 = time.perf_counter()
            run_dbt(["build"], project_dir=REPO_ROOT, env=env)
        else:
            from python_jobs.engines.commands import warehouse_for
            from python_jobs.engines.load_raw import load_raw
            from python_jobs.engines.orchestrate import build_with_steps, parsed_manifest

            if engine == "postgres":
                from python_jobs.engines.postgres_server import throwaway_postgres

                pg = stack.enter_context(throwaway_postgres())
                server = stack.enter_context(TreeSampler(root=pg.pid))
                env |= pg.env() | {"CHURN_TARGET": "postgres"}
                os.environ.update(env)
            warehouse = warehouse_for(engine, env)
            t0 = time.perf_counter()
            load_raw(raw, warehouse)
            result["load_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            build_with_steps(warehouse, parsed_manifest(None, env), env=env)
        result["build_s"] = time.perf_counter() - t0
        tree.sample()
        result["cpu_s"] = tree.cpu_s
        if server is not None:
            server.sample()
            result["server_cpu_s"], result["server_peak_mb"] = server.cpu_s, server.peak["tree"] / 2**20
    result["peak_mb"] = {role: v / 2**20 for role, v in tree.peak.items()}
    return result


def _rows(case: str, found: dict) -> list[dict]:
    metrics = [
        ("raw load wall", found["load_s"], "s"),
        ("build wall", found["build_s"], "s"),
        ("load+build CPU user+sys", found["cpu_s"] + found.get("server_cpu_s", 0.0), "s"),
        ("peak RSS tree", found["peak_mb"]["tree"], "MiB"),
    ]
    if found["peak_mb"]["jvm"]:
        metrics.append(("peak RSS JVM", found["peak_mb"]["jvm"], "MiB"))
    if "server_peak_mb" in found:
        metrics += [
            ("server CPU user+sys", found["server_cpu_s"], "s"),
            ("peak RSS server", found["server_peak_mb"], "MiB"),
        ]
    return [{"area": "engines", "case": case, "metric": m, "value": v, "unit": u} for m, v, u in metrics]


def run_size(size: int, root: Path = BENCH_DIR) -> list[dict]:
    from python_jobs.synth import generate_world

    scratch = root / str(size)
    shutil.rmtree(scratch, ignore_errors=True)
    generate_world(size, SEED, scratch / "raw", progress=False)
    rows: list[dict] = []
    for engine in ENGINES:
        work = scratch / engine
        work.mkdir(parents=True)
        cmd = [
            sys.executable,
            "-m",
            "python_jobs.bench.engines_bench",
            engine,
            str(scratch / "raw"),
            str(work),
        ]
        process = measure(cmd, os.environ | {"DBT_PROFILES_DIR": str(REPO_ROOT)}, scratch / f"{engine}.log")
        if process["exit_code"] != 0:
            log.error(
                "engines bench %s %s failed or cannot run here: see %s",
                size_label(size),
                engine,
                scratch / f"{engine}.log",
            )
            continue
        found = json.loads((work / "result.json").read_text())
        log.info("engines bench %s %s: %s", size_label(size), engine, found)
        rows += _rows(f"{size_label(size)} {engine}", found)
    return rows


def run(quick: bool, sizes: list[int] | None = None) -> list[dict]:
    return [row for size in (sizes or [QUICK_SIZE if quick else DEFAULT_SIZE]) for row in run_size(size)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("engine", choices=ENGINES)
    parser.add_argument("raw", type=Path)
    parser.add_argument("work", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    result = build_on(args.engine, args.raw, args.work)
    (args.work / "result.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
