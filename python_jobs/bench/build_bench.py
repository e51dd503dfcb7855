"""Build benchmark (issue 10): generation and `churn build` end to end, full, nightly and no-change.

For each size N (default 100k; `--million` adds 1M; `--quick` runs 20k; `--customers N` picks sizes), under
`.bench/build/<N>/` (scratch, kept for inspection, replaced by the next run):

1. generate   `churn generate --customers N` -> world/ (its last day D = the day of its last order)
2. cut        `python -m python_jobs.synth.cutoff world yesterday d`: the export as of midnight of d, the latest
              day <= D + 1 ending two quiet nights (quiet_night), and two_before/, day_before/ for d - 2, d - 1
3. full build `churn build` on two_before/ into a fresh warehouse (its own target, logs, models, LLM cache)
4. nightly    `churn build` again, same warehouse, raw = day_before/ (one more day of data): the first night
              after a full build, which also rewrites what the full build laid out (see below)
5. later      `churn build` again, raw = yesterday/ (one more day): a night like every later one, started with the
              warehouse and the export out of the page cache (drop_page_cache), as on a shop's machine after a
              day of other work (the stages before it read files the stage before had just written)
6. no-change  `churn build` again, same warehouse and data: it finds nothing changed and runs no dbt (build_state)
7. forced     `churn build --force` again: dbt runs every node on unchanged inputs (incremental no-ops, tests)
8. SQL alone  every SQL model again as in a full build, with no Python model beside it (bench.sql_alone): the
              SQL's own CPU, which the growth goal (300k -> 1M) is judged on besides node times; run for every
              size after all sizes' builds, back to back (`--sql-alone-rounds N`: N rounds, sizes interleaved,
              the median of the rounds' ratios judged)

Every build reads raw = export/, a symlink to that stage's folder: one path, as a shop's export lands each night.

Two nights, because the first differs: a full build writes each snapshot mart's rows of all snapshots at once,
so the as-of snapshot's rows lie in every row group; the first nightly deletes them (the as-of date moved) and
DuckDB's checkpoint rewrites every row group that lost rows (at 1M one 16.8 s commit). Later nights delete the
rows the night before appended, whole row groups, and rewrite nothing.

Each stage is one subprocess; os.wait4 gives its rusage, i.e. wall, CPU user+sys and peak RSS of that
process tree (ru_maxrss: the largest single process; dbt and its Python models run in one process), and a /proc
sampler the peak of the tree's summed RSS (the tagging and scoring worker processes beside dbt). Rows per
second = raw-contract rows of the world the stage reads / wall. After each build, `<target>/run_results.json`
gives dbt's elapsed time, the slowest nodes, the summed time of SQL models (manifest `language`) and where the
elapsed time went (python_jobs.bench.dbt_schedule: the critical path, the seconds with one node running, and from
the sampler's series the CPU by node and the nodes running at the RSS peak);
`enrichment_runs` gives the texts sent to the tag models and to the embedding model in that dbt invocation; new files under the model dir
count the churn runs trained, churn models fitted and weak sentiment models fitted.
Results: rows {area, case, metric, value, unit} (+ size, stage), rendered by python_jobs.bench.build_results.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from python_jobs.bench.build_results import (
    EXPORT_NO_CHANGE,
    EXPORT_REBUILD,
    NODE_LISTS,
    SQL_ALONE,
    SQL_ALONE_ROUND,
    markdown,
    size_label,
)
from python_jobs.bench.dbt_schedule import Sample, models_in, schedule
from python_jobs.bench.proc_tree import TreeSampler
from python_jobs.config import REPO_ROOT, isolated_build_env
from python_jobs.mapping.spec import project_vars
from python_jobs.synth.cutoff import last_order_day
from python_jobs.synth.writer import RAW_TABLES
from python_jobs.text.runs import TABLE as RUNS_TABLE
from python_jobs.warehouse import first_row, schema_of

__all__ = ["markdown", "run"]
log = logging.getLogger(__name__)

QUICK_SIZES = [20_000]
DEFAULT_SIZES = [100_000]
MILLION = 1_000_000
SEED = 42
N_SLOWEST = 5
# dbt_results values that become result rows (the node lists become rows of their own: _rows)
DBT_VALUES = (
    "dbt_s",
    "sql_model_s",
    "sql_model_cpu_s",
    "nodes",
    "critical_path_s",
    "one_node_s",
    "peak_sampled_rss_mb",
)
# what a SQL-alone stage run in rounds reports: each value's median over the rounds (sql_alone_medians)
MEDIAN_VALUES = (
    "wall_s", "cpu_s", "peak_rss_mb", "raw_rows", "rows_per_s", "sql_alone_cpu_s", "sql_alone_sys_s", "sql_alone_s",
    "sql_alone_faults",
)  # fmt: skip
CUT_MEMORY = "4GB"  # DuckDB memory_limit of the cut (default would be 80% of RAM)
BENCH_DIR = REPO_ROOT / ".bench" / "build"
# model dir subfolder -> (metric, file pattern): one new file = one fit (trained only on a cache miss)
MODEL_FILES = {
    "runs": ("churn_runs_trained", "*.pkl"),
    "registry": ("churn_models_fitted", "*.json"),
    "weak_sentiment": ("weak_models_fitted", "*.pkl"),
}


def _churn() -> list[str]:
    exe = Path(sys.executable).with_name("churn")
    return [str(exe)] if exe.exists() else [sys.executable, "-c", "from python_jobs.cli import main; main()"]


def measure(cmd: list[str], env: dict[str, str], log_path: Path) -> dict:
    """Run `cmd` (output to log_path); wall, CPU user+sys and peak RSS of its process tree (the largest single
    process, and the whole tree's sum sampled from /proc: worker processes of tagging and scoring hold memory
    beside dbt's), its exit code, and samples: the tree's CPU and RSS as sampled over time (proc_tree)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT)
        try:
            with TreeSampler(root=proc.pid) as tree:
                _, status, ru = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "wall_s": wall,
        "cpu_s": ru.ru_utime + ru.ru_stime,
        "peak_rss_mb": ru.ru_maxrss / 1024,
        "peak_tree_rss_mb": tree.peak["tree"] / 2**20,
        "exit_code": float(proc.returncode),
        "samples": tree.series,
    }


def drop_page_cache(*dirs: Path) -> int:
    """Bytes of the files under `dirs`, each written back and evicted from the page cache (posix_fadvise
    DONTNEED: no root needed, other files keep their pages), so the next stage reads them from disk."""
    os.sync()  # DONTNEED leaves dirty pages where they are
    evicted = 0
    for path in (p for d in dirs for p in d.rglob("*") if p.is_file() and not p.is_symlink()):
        with open(path, "rb") as f:
            os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        evicted += path.stat().st_size
    return evicted


def raw_rows(raw_dir: Path) -> int:
    """Rows of the raw-contract tables (truth tables left out), from the Parquet footers."""
    paths = [raw_dir / f"{t}.parquet" for t in RAW_TABLES]
    return sum(pq.ParquetFile(p).metadata.num_rows for p in paths if p.exists())


def build_env(work: Path, raw: Path) -> dict[str, str]:
    """Environment of an isolated build: everything it writes lands under `work`."""
    return os.environ | {"DBT_PROFILES_DIR": str(REPO_ROOT)} | isolated_build_env(work, raw)


def model_files(model_dir: Path) -> dict[str, set[str]]:
    return {sub: {p.name for p in (model_dir / sub).glob(pat)} for sub, (_, pat) in MODEL_FILES.items()}


def node_name(unique_id: str) -> str:
    """'model.ecom_churn.churn_scores' -> 'churn_scores'; tests keep their test name, not the hash."""
    parts = unique_id.split(".")
    return parts[2] if parts[0] in ("test", "unit_test") and len(parts) > 2 else parts[-1]


def dbt_results(target: Path, samples: Sequence[Sample] = ()) -> dict:
    """dbt elapsed time, slowest nodes, summed SQL-model time, the critical path, CPU by node and the nodes
    running at the sampled RSS peak (dbt_schedule) and the invocation id of the last build."""
    results = json.loads((target / "run_results.json").read_text())
    manifest = json.loads((target / "manifest.json").read_text())
    timed = sorted(results["results"], key=lambda r: r.get("execution_time") or 0.0, reverse=True)
    sql_models = models_in(manifest, "sql")
    sql = {
        r["unique_id"]: r.get("execution_time") or 0.0
        for r in results["results"]
        if r["unique_id"] in sql_models
    }
    path = schedule(results, manifest, top=N_SLOWEST, samples=samples)
    # node times of two dbt threads include waiting for the other's cores; sampled CPU does not
    sql_cpu = sum(seconds for uid, seconds in path["cpu_by_node"].items() if uid in sql) if samples else None
    return {
        "invocation_id": results["metadata"].get("invocation_id"),
        "dbt_s": float(results.get("elapsed_time") or 0.0),
        "sql_model_s": sum(sql.values()),
        "sql_model_cpu_s": sql_cpu,
        "nodes": float(len(results["results"])),
        "critical_path_s": path["critical_path_s"],
        "one_node_s": path["one_node_s"],
        "peak_sampled_rss_mb": path["peak_rss_mb"],
        "slowest": [
            (node_name(r["unique_id"]), float(r.get("execution_time") or 0.0)) for r in timed[:N_SLOWEST]
        ],
        "chain": [(node_name(uid), seconds) for uid, seconds in path["chain"]],
        "cpu": [(node_name(uid), seconds) for uid, seconds in path["cpu"]],
        "at_peak": [(node_name(uid), seconds) for uid, seconds in path["at_peak"]],
    }


def texts_sent(db: Path, invocation_id: str | None) -> dict[str, float]:
    """Texts handed to the tag models and to the embedding model by one dbt invocation (enrichment_runs);
    empty when nothing records it."""
    import duckdb

    if not db.exists() or not invocation_id:
        return {}
    with duckdb.connect(str(db), read_only=True) as con:
        schema = schema_of(con, RUNS_TABLE)
        if schema is None:
            return {}
        sent = first_row(
            con.execute(
                f"""select coalesce(sum(texts_sent) filter (where model_name not like '%embed%'), 0),
                       coalesce(sum(texts_sent) filter (where model_name like '%embed%'), 0)
                from "{schema}".{RUNS_TABLE} where invocation_id = ?""",
                [invocation_id],
            )
        )
    return {"texts_sent_tag": float(sent[0]), "texts_sent_embed": float(sent[1])}


def _rows(size: int, stage: str, values: dict, listed: dict[str, list[tuple[str, float]]]) -> list[dict]:
    """Result rows of one stage: its values, and each node of its node lists (build_results.NODE_LISTS) as a row."""
    case = f"{size_label(size)} {stage}"
    units = {
        "wall_s": "s",
        "cpu_s": "s",
        "dbt_s": "s",
        "sql_model_s": "s",
        "sql_model_cpu_s": "s",
        "sql_alone_cpu_s": "s",
        "sql_alone_sys_s": "s",
        "sql_alone_s": "s",
        "critical_path_s": "s",
        "one_node_s": "s",
        "peak_rss_mb": "MB",
        "peak_tree_rss_mb": "MB",
        "peak_sampled_rss_mb": "MB",
    }
    units |= {
        "raw_rows": "rows",
        "rows_per_s": "rows/s",
        "texts_sent_tag": "texts",
        "texts_sent_embed": "texts",
        "rounds": "runs",
        "sql_alone_faults": "faults",
    }
    base = {"area": "build", "case": case, "size": size, "stage": stage}
    out = [
        base | {"metric": k, "value": float(v), "unit": units.get(k, "")}
        for k, v in values.items()
        if v is not None
    ]
    out += [
        base | {"metric": f"{what} {i}: {name}", "value": s, "unit": "s"}
        for what, nodes in listed.items()
        for i, (name, s) in enumerate(nodes, 1)
    ]
    return out


def run_size(
    size: int, root: Path = BENCH_DIR, then: list[Callable[[str], list[dict]]] | None = None
) -> list[dict]:
    """All stages at one size; stops after a failed stage (later stages would measure nothing useful). The last
    stage (SQL models alone) runs at once, or is appended to `then` to be run later (given its stage name),
    returning its rows."""
    scratch = root / str(size)
    world, yesterday, day_before, two_before, work, logs = (
        scratch / d for d in ("world", "yesterday", "day_before", "two_before", "warehouse", "logs")
    )
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    env = os.environ | {"DBT_PROFILES_DIR": str(REPO_ROOT)}
    rows: list[dict] = []

    def stage(
        name: str,
        cmd: list[str],
        stage_env: dict[str, str],
        raw: Path,
        build: bool = False,
        cold: bool = False,
    ) -> bool:
        log.info("build bench %s: %s ...", size_label(size), name)
        if cold:
            log.info(
                "build bench: %.0f MB of warehouse and export out of the page cache",
                drop_page_cache(work, raw) / 2**20,
            )
        before = model_files(work / "models") if build else {}
        (work / "target" / "run_results.json").unlink(missing_ok=True)
        values: dict = measure(cmd, stage_env, logs / f"{name.replace(' ', '_')}.log")
        samples = values.pop("samples")
        ok = values["exit_code"] == 0
        n_raw = raw_rows(raw) if raw.exists() else 0
        values |= {"raw_rows": n_raw, "rows_per_s": n_raw / values["wall_s"] if n_raw else None}
        listed: dict[str, list[tuple[str, float]]] = {}
        if build and (work / "target" / "run_results.json").exists():
            dbt = dbt_results(work / "target", samples)
            kept = logs / name.replace(" ", "_")  # for a later look at where the time went
            shutil.copy2(work / "target" / "run_results.json", f"{kept}_run_results.json")
            Path(f"{kept}_samples.json").write_text(json.dumps(samples))
            listed = {key: dbt.pop(name) for key, name in NODE_LISTS.items()}
            values |= {k: dbt[k] for k in DBT_VALUES}
            values |= texts_sent(work / "churn.duckdb", dbt["invocation_id"]) if ok else {}
        elif build and ok:  # `churn build` found nothing changed (build_state): dbt did not run
            values |= {
                "dbt_s": 0.0,
                "sql_model_s": 0.0,
                "sql_model_cpu_s": 0.0,
                "nodes": 0.0,
                "texts_sent_tag": 0.0,
                "texts_sent_embed": 0.0,
            }
        if build:
            after = model_files(work / "models")
            values |= {MODEL_FILES[sub][0]: len(after[sub] - before[sub]) for sub in MODEL_FILES}
        rows.extend(_rows(size, name, values, listed))
        log.info(
            "build bench %s %s: exit %d, %.1fs wall, %.1fs CPU, %.0f MB peak RSS%s",
            size_label(size), name, values["exit_code"], values["wall_s"], values["cpu_s"],
            values["peak_rss_mb"], "".join(f", {n} {s:.1f}s" for n, s in listed.get("slowest", [])[:3]),
        )  # fmt: skip
        if not ok:
            log.error("build bench %s %s failed: see %s", size_label(size), name, logs)
        return ok

    generate = [*_churn(), "generate", "--customers", str(size), "--seed", str(SEED), "--out", str(world)]
    if not stage("generate", generate, env, world):
        return rows
    day = quiet_night(last_order_day(world) + timedelta(1))
    for name, export, before in (
        ("cut", yesterday, day),
        ("cut day before", day_before, day - timedelta(1)),
        ("cut two days before", two_before, day - timedelta(2)),
    ):
        cut = [sys.executable, "-m", "python_jobs.synth.cutoff", str(world), str(export), before.isoformat()]
        if not stage(name, [*cut, "--memory-limit", CUT_MEMORY], env, world):
            return rows
    build = [*_churn(), "build"]
    export = scratch / "export"  # where the shop's export lands each night: one path, as in production
    for name, raw, args in (
        ("full build", two_before, []),
        ("nightly rebuild", day_before, []),
        ("later nightly rebuild", yesterday, []),
        ("no-change rebuild", yesterday, []),
        ("forced no-change rebuild", yesterday, ["--force"]),
    ):
        point_at(export, raw)
        cold = name == "later nightly rebuild"
        if not stage(name, [*build, *args], build_env(work, export), raw, build=True, cold=cold):
            return rows
    for name in (EXPORT_REBUILD, EXPORT_NO_CHANGE):  # the shop's own command, on the same export
        if not stage(
            name, [*build, "--raw-path", str(export)], build_env(work, export), yesterday, build=True
        ):
            return rows

    def sql_alone(name: str = SQL_ALONE) -> list[dict]:
        first = len(rows)
        alone = logs / f"{name.replace(' ', '_')}.json"
        cmd = [sys.executable, "-m", "python_jobs.bench.sql_alone", str(alone)]
        if stage(name, cmd, build_env(work, export), yesterday, build=True):
            got = json.loads(alone.read_text())
            values = {
                "sql_alone_cpu_s": got["cpu_s"],
                "sql_alone_sys_s": got["sys_s"],
                "sql_alone_s": got["wall_s"],
                "sql_alone_faults": got.get("faults"),
            }
            rows.extend(_rows(size, name, values, {}))
        return rows[first:]

    if then is None:
        sql_alone()
    else:
        then.append(sql_alone)
    return rows


def quiet_night(as_of: date, vars: dict | None = None) -> date:
    """The latest day d <= as_of such that the as-of dates d - 2 -> d - 1 -> d are quiet nights: no snapshot joins
    the spine (snapshot T is in it from as-of T + 1) and no horizon closes (at as-of T + churn_horizon_days), so
    the labelled snapshots, the evaluation snapshot and the fitted run stay those of the night before, as on most
    nights. A night that closes a horizon refits the churn run (minutes at 1M, once a month); the default world's
    last night does (as-of 2025-12-30 = 2025-10-01 + 90 days). Exports cut at midnight of d - 2, d - 1 and d have
    those as-of dates (int_snapshot_spine: the day after the last order). Every month start counts as a snapshot
    date (snapshot_months 1; with a longer step this only skips a few quiet nights too)."""
    horizon = timedelta(int((vars or project_vars())["churn_horizon_days"]))

    def month_starts(day: date) -> list[date]:
        return [
            date(day.year + (day.month - 1 - k) // 12, (day.month - 1 - k) % 12 + 1, 1) for k in (-1, 0, 1)
        ]

    day = as_of
    while True:
        snapshots = month_starts(day) + month_starts(day - horizon)
        changes = {t + timedelta(1) for t in snapshots} | {t + horizon for t in snapshots}
        if not any(day - timedelta(2) < t <= day for t in changes):
            return day
        day -= timedelta(1)


def point_at(link: Path, target: Path) -> None:
    """Make `link` a symlink to `target`. The builds read one raw path, as a shop's nightly export does: a path
    that changed would make dbt re-parse the sources that name it (CHURN_RAW_PATH) on every night."""
    link.unlink(missing_ok=True)
    link.symlink_to(target.resolve(), target_is_directory=True)


def run(
    quick: bool, million: bool = False, sizes: list[int] | None = None, sql_alone_rounds: int = 1
) -> list[dict]:
    """Rows for every stage at every size: `sizes`, else 20k (quick) or 100k, plus 1M with `million`; the
    SQL-alone stage `sql_alone_rounds` times per size."""
    chosen = list(sizes or (QUICK_SIZES if quick else DEFAULT_SIZES))
    if million and MILLION not in chosen:
        chosen.append(MILLION)
    rows: list[dict] = []
    later: list[Callable[[str], list[dict]]] = []
    for size in chosen:
        rows += run_size(size, then=later)
    # every size's SQL-alone stage after all builds, back to back and in rounds (300k, 1M, 300k, 1M, ...): the
    # growth goal compares them, and the VM's speed moved one size's SQL CPU by 16 % between runs minutes
    # apart (docs/benchmarks/2026-12-05-session42.md); with rounds, the median of the rounds' own ratios is judged
    rounds = (
        [f"{SQL_ALONE_ROUND}{k}" for k in range(1, sql_alone_rounds + 1)]
        if sql_alone_rounds > 1
        else [SQL_ALONE]
    )
    for name in rounds:
        for sql_alone in later:
            rows += sql_alone(name)
    return rows + sql_alone_medians(rows)


def sql_alone_medians(rows: list[dict]) -> list[dict]:
    """Each size's SQL-alone stage (SQL_ALONE) from its rounds: the median of each measured value, the worst exit
    code and the number of rounds."""
    by_size: dict[int, dict[str, list[float]]] = {}
    for r in rows:
        if r["stage"].startswith(SQL_ALONE_ROUND) and r["metric"] in (*MEDIAN_VALUES, "exit_code"):
            by_size.setdefault(r["size"], {}).setdefault(r["metric"], []).append(r["value"])
    out = []
    for size, got in by_size.items():
        values = {k: statistics.median(v) for k, v in got.items() if k in MEDIAN_VALUES}
        values |= {"exit_code": max(got["exit_code"]), "rounds": float(len(got["exit_code"]))}
        out += _rows(size, SQL_ALONE, values, {})
    return out
