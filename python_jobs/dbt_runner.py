"""Run dbt in-process (design section 10: a second invocation costs well under a second)."""

from __future__ import annotations

import importlib
import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from python_jobs.config import REPO_ROOT

log = logging.getLogger(__name__)


class DbtError(RuntimeError):
    pass


# What `churn build` adds to `dbt build`. Unit tests check model logic on fixed fixtures, so a production build
# learns nothing from them (dbt's docs advise leaving them out there); `make test` runs them in every full
# `dbt build` of its test worlds.
PRODUCTION_BUILD_ARGS = ("--exclude-resource-type", "unit_test")


# What the dbt Python models import. dbt runs models in threads, and two threads importing scikit-learn at once
# can see a partially initialised module ("cannot import name 'clone' from partially initialized module
# 'sklearn.base'", seen on an Online Retail build): import them once, before dbt's threads start.
PYTHON_MODEL_IMPORTS = (
    "python_jobs.churn.adapter",
    "python_jobs.segments",
    "python_jobs.text.enrich",
    "python_jobs.text.runs",
    "python_jobs.text.voice",
    "python_jobs.text.weak_registry",
)


def preimport_python_models() -> None:
    for name in PYTHON_MODEL_IMPORTS:
        importlib.import_module(name)


def single_threaded_numerics() -> None:
    """One BLAS and OpenMP thread for the whole process, as every Python model asks for by default.

    The models cap those threads with threadpoolctl contexts, and the caps are process-wide: when one model's
    context closed in one dbt thread, it restored the process default under a fit running in the other. The
    churn logistic regressions then ran on two BLAS threads whenever customer_segments finished beside
    churn_model_runs, and their coefficients moved in the 8th digit (caught by the engines test: DuckDB and
    Postgres/Spark builds of the same data must agree). With one thread as the default, closing a context
    changes nothing; settings that ask for more threads (var n_threads) get them inside their own contexts.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


def close_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb holds open. profiles.yml keeps it open for a whole invocation
    (keep_open: true): closed whenever both dbt threads were between nodes, it was checkpointed and lost its cache
    mid-build, and reopening it stalled both threads (7.8 s once in a 1M nightly build). dbt-duckdb closes it only
    at exit, so it is closed here after every invocation: the file is then free for the next one, for this
    process's own connections (DuckDB refuses a second one with other settings) and for publishing the file.
    Reads dbt-duckdb's environment (_ENV, pinned version)."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # dbt-duckdb not installed: another engine
        return
    env = getattr(DuckDBConnectionManager, "_ENV", None)
    DuckDBConnectionManager.close_all_connections()
    if env is not None:
        env.close()


def run_dbt(
    args: Sequence[str],
    vars: Mapping[str, Any] | None = None,
    project_dir: Path = REPO_ROOT,
    env: Mapping[str, str] | None = None,
    before_connect: Callable[[], None] | None = None,
    on_event: Callable[[Any], None] | None = None,
) -> Any:
    """Invoke `dbt <args>` against this project and raise DbtError naming the failed nodes.

    `env` entries (e.g. CHURN_RAW_PATH, CHURN_DUCKDB_PATH) are set for the call and restored afterwards.
    `before_connect` is called once dbt has parsed the project, before it opens its first connection (dbt fires
    ConcurrencyLine right before the on-run-start hooks and the first query): there it may block, e.g. until
    the database file is in place. `on_event` sees every event dbt fires, in the thread that fires it (a
    node's events in the dbt thread that runs the node).
    """
    from dbt.cli.main import dbtRunner

    preimport_python_models()
    single_threaded_numerics()  # after the imports: threadpoolctl caps the libraries already loaded
    cli = [*args, "--project-dir", str(project_dir), "--profiles-dir", str(project_dir)]
    if vars:
        cli += ["--vars", json.dumps(dict(vars))]
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    logged_errors: list[str] = []  # what dbt logged at error level (run-operation results carry no message)

    def collect(event: Any) -> None:
        if before_connect is not None and event.info.name == "ConcurrencyLine":
            before_connect()
        if event.info.level == "error" and event.info.msg:
            logged_errors.append(str(event.info.msg))
        if on_event is not None:
            on_event(event)

    try:
        res = dbtRunner(callbacks=[collect]).invoke(cli)
    finally:
        close_duckdb()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    if res.exception is not None:
        raise DbtError(f"dbt {' '.join(args)} crashed: {res.exception}") from res.exception
    if not res.success:
        failed = [
            f"{r.node.unique_id}: {r.message}"
            for r in (res.result or [])
            if getattr(r, "status", None) in ("error", "fail", "runtime error") and hasattr(r, "node")
        ]
        detail = failed or logged_errors[-1:] or ["see logs/dbt.log"]
        shown = " ".join(args) if len(args) <= 12 else " ".join([*args[:8], f"... ({len(args) - 8} more)"])
        raise DbtError(f"dbt {shown} failed:\n  " + "\n  ".join(detail))
    return res.result
