"""`churn build` where dbt does not run Python models: dbt selections and Python steps, in dependency order.

dbt parses the project for the target; the Python models it disabled there (dbt_project.yml `&python_step`) are
the steps. Each wave builds, with one `dbt build`, every node (models, seeds, tests) whose upstream steps have
all run, then runs the steps whose inputs now exist. SQL reads a step's table through macros/python_step.sql
(source python_<schema>.<name>), so the DAG is the same one dbt runs on DuckDB.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from python_jobs.config import REPO_ROOT
from python_jobs.dbt_runner import run_dbt
from python_jobs.engines.steps import Step, python_steps, run_step, table_schemas
from python_jobs.engines.warehouse_io import Warehouse

log = logging.getLogger(__name__)

BUILT_TYPES = ("model", "seed", "test", "snapshot")


@dataclass(frozen=True)
class Wave:
    nodes: tuple[str, ...]  # dbt node names for `dbt build --select`
    steps: tuple[Step, ...]  # run after the nodes, in this order


def step_source_id(manifest: Mapping[str, Any], step: Step) -> str:
    return f"source.{manifest['metadata']['project_name']}.python_{step.schema}.{step.name}"


def plan_waves(manifest: Mapping[str, Any], steps: Mapping[str, Step]) -> list[Wave]:
    nodes = {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] in BUILT_TYPES}
    parents = manifest["parent_map"]
    by_source = {step_source_id(manifest, s): s.name for s in steps.values()}
    by_name = {n["name"]: uid for uid, n in nodes.items() if n["resource_type"] in ("model", "seed")}

    @cache
    def upstream_steps(uid: str) -> frozenset[str]:
        found: set[str] = set()
        for parent in parents.get(uid, []):
            if parent in by_source:
                found |= {by_source[parent]} | step_needs(by_source[parent])
            elif parent in nodes:
                found |= upstream_steps(parent)
        return frozenset(found)

    @cache
    def step_needs(name: str) -> frozenset[str]:
        found: set[str] = set()
        for ref in steps[name].refs:
            if ref in steps:
                found |= {ref} | step_needs(ref)
            elif ref in by_name:
                found |= upstream_steps(by_name[ref])
        return frozenset(found)

    waves, built, done = [], set(), set()
    while len(built) < len(nodes) or len(done) < len(steps):
        wave_nodes = sorted(uid for uid in nodes if uid not in built and upstream_steps(uid) <= done)
        built |= set(wave_nodes)
        ready: list[Step] = []
        progress = True
        while progress:
            progress = False
            for name in sorted(steps):
                if name in done:
                    continue
                refs_ready = all(
                    (r in steps and r in done) or (r in by_name and by_name[r] in built)
                    for r in steps[name].refs
                )
                if refs_ready:
                    ready.append(steps[name])
                    done.add(name)
                    progress = True
        if not wave_nodes and not ready:
            stuck = sorted(set(steps) - done)
            raise RuntimeError(f"Python steps {stuck} wait on nodes that never build: check their refs")
        waves.append(Wave(tuple(nodes[uid]["name"] for uid in wave_nodes), tuple(ready)))
    return waves


def target_path(env: Mapping[str, str] | None) -> Path:
    return Path({**os.environ, **(env or {})}.get("DBT_TARGET_PATH", str(REPO_ROOT / "target")))


def parsed_manifest(vars: Mapping[str, Any] | None, env: Mapping[str, str] | None) -> dict[str, Any]:
    run_dbt(["parse"], vars=vars, env=env)
    return json.loads((target_path(env) / "manifest.json").read_text())


def build_with_steps(
    warehouse: Warehouse,
    manifest: Mapping[str, Any],
    extra_args: Sequence[str] = (),
    vars: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> None:
    """Build every wave; a failed dbt node or step stops the build (earlier tables stay as they were)."""
    steps = python_steps(manifest)
    schemas = table_schemas(manifest, steps)
    full_refresh = "--full-refresh" in extra_args
    waves = plan_waves(manifest, steps)
    for i, wave in enumerate(waves, 1):
        log.info(
            "wave %d/%d: %d dbt nodes, then steps %s",
            i,
            len(waves),
            len(wave.nodes),
            [s.name for s in wave.steps] or "none",
        )
        if wave.nodes:
            run_dbt(
                ["build", "--select", *wave.nodes, "--indirect-selection", "empty", *extra_args],
                vars=vars,
                env=env,
            )
        for step in wave.steps:
            step_runner(warehouse, step)(step, warehouse, schemas, full_refresh=full_refresh)


def step_runner(warehouse: Warehouse, step: Step) -> Any:
    """run_step, or Spark's executor tasks for a row-wise step (meta.row_input) on a Spark warehouse."""
    from python_jobs.engines.warehouse_io import SparkWarehouse

    if step.row_input and isinstance(warehouse, SparkWarehouse):
        from python_jobs.engines.spark_steps import run_in_partitions

        return run_in_partitions
    return run_step
