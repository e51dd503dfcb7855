"""The SQL models of a built warehouse rebuilt alone: their CPU without any Python model beside them.

In a full build, SQL nodes share the dbt process (and the two cores) with the Python models: text tagging, model
fitting. Sampled CPU can only be split among the nodes that ran (dbt_schedule.cpu_by_node), so a SQL node's share
depends on what ran beside it, and node times include waiting for the cores the other node held. Here every SQL
model of the project runs again as in a full build (`dbt run --full-refresh`, dbt's two threads, DuckDB's threads as
macros/duckdb_threads.sql sets them) and nothing else: the process's CPU from the first node's start to the last
node's end is the SQL's CPU, read from getrusage at dbt's NodeStart / NodeFinished events, no sampling. The Python
models' tables are read as the build left them.

`python -m python_jobs.bench.sql_alone OUT.json`, in an isolated build's environment (config.isolated_build_env:
CHURN_DUCKDB_PATH, DBT_TARGET_PATH with the manifest of the build before).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

from python_jobs.bench.dbt_schedule import models_in
from python_jobs.dbt_runner import run_dbt

NODE_EVENTS = ("NodeStart", "NodeFinished")


def sql_models(manifest: dict) -> list[str]:
    """Names of the project's enabled SQL models (ephemeral ones run inside their consumers)."""
    return sorted(
        node["name"]
        for node in models_in(manifest, "sql").values()
        if node["config"].get("materialized") != "ephemeral"
    )


def process_usage() -> tuple[float, float, int]:
    """The process's user and system CPU seconds and minor page faults so far."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime, used.ru_stime, used.ru_minflt


def rebuild(names: list[str], threads: int | None = None) -> dict[str, Any]:
    """Run the models; wall and CPU seconds (user + system, and system alone) and minor page faults (`faults`:
    the kernel's system CPU is mostly first touches of fresh pages) from the first node's start to the last
    node's end. With one dbt thread, also each node's CPU (`node_cpu_s`, `node_sys_s`) and faults
    (`node_faults`): nothing else runs between its start and its end."""
    # (event, unique_id, epoch seconds, process usage: user and system CPU seconds, minor faults)
    marks: list[tuple[str, str, float, tuple[float, float, int]]] = []

    def mark(event: Any) -> None:
        if event.info.name in NODE_EVENTS:
            marks.append((event.info.name, event.data.node_info.unique_id, time.time(), process_usage()))

    run_dbt(
        ["run", "--full-refresh", *(["--threads", str(threads)] if threads else []), "--select", *names],
        on_event=mark,
    )
    starts = {uid: (at, cpu) for event, uid, at, cpu in marks if event == "NodeStart"}
    ends = {uid: (at, cpu) for event, uid, at, cpu in marks if event == "NodeFinished"}
    if not starts or not ends:
        raise RuntimeError(f"dbt ran none of the {len(names)} SQL models (no node events)")
    first, last = min(starts.values()), max(ends.values())

    def used(start: tuple[float, float, int], end: tuple[float, float, int]) -> tuple[float, float, int]:
        return end[0] + end[1] - start[0] - start[1], end[1] - start[1], end[2] - start[2]

    cpu, sys_cpu, faults = used(first[1], last[1])
    out: dict[str, Any] = {
        "models": len(names),
        "wall_s": last[0] - first[0],
        "cpu_s": cpu,
        "sys_s": sys_cpu,
        "faults": faults,
    }
    if threads == 1:
        nodes = {uid: used(starts[uid][1], ends[uid][1]) for uid in ends if uid in starts}
        for k, key in enumerate(("node_cpu_s", "node_sys_s", "node_faults")):
            out[key] = {uid: usage[k] for uid, usage in nodes.items()}
    return out


def main(out: Path, threads: int | None = None) -> None:
    manifest = json.loads((Path(os.environ["DBT_TARGET_PATH"]) / "manifest.json").read_text())
    out.write_text(json.dumps(rebuild(sql_models(manifest), threads)))


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else None)
