"""Markdown for the build benchmark: one row per size and stage, then issue 10's goals, met or not.

Input: the rows python_jobs.bench.build_bench returns ({area, case, metric, value, unit, size, stage}).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from operator import methodcaller

MILLION = 1_000_000
GROWTH_SIZES = (300_000, MILLION)
SQL_ALONE = "SQL models alone"  # the build bench's last stage (build_bench, sql_alone)
SQL_ALONE_ROUND = f"{SQL_ALONE} round "  # + k: that stage's round k (`--sql-alone-rounds`)
# The same export through the command a shop runs on its own files (`churn build --raw-path`, build_bench)
EXPORT_REBUILD = "rebuild through churn build --raw-path"
EXPORT_NO_CHANGE = "no-change rebuild through churn build --raw-path"
# metric prefix of a node list in the result rows (build_bench._rows) -> its key in a stage record
NODE_LISTS = {"slowest": "slowest", "critical path": "chain", "cpu": "cpu", "at peak": "at_peak"}
NIGHTLY_STAGES = {  # stage -> what its goal row says
    "nightly rebuild": "nightly rebuild wall < 2 min (first night after the full build)",
    "later nightly rebuild": "nightly rebuild wall < 2 min (a later night, warehouse and export read cold)",
}
NOTES = """\
wall and CPU (user+sys) and peak RSS are those of the stage's process tree (os.wait4 rusage; peak RSS is the
largest single process, which runs dbt and its Python models; "tree" is the peak of the summed RSS of every
process of the tree, sampled from /proc every 0.5 s, with the tagging and scoring worker processes: the memory
goal is judged on it). raw rows/s = raw-contract rows the stage reads
(truth tables excluded) / wall. Slowest nodes: dbt's own execution_time per node from run_results.json (two
dbt threads run in parallel, so node times add up to more than dbt's elapsed time). texts sent: the
enrichment_runs rows of that dbt invocation, tag models / embedding model. model fits: new files in the model
dir (churn runs, churn models, weak sentiment models), written only when something is trained. The no-change
rebuild is a plain `churn build`: it compares content hashes of the raw files, the project, library versions,
vars and settings with those the last complete build stored (python_jobs/build_state.py) and runs no dbt when
all match; the forced no-change rebuild (`churn build --force`) runs dbt on the same unchanged inputs. The two builds
"through churn build --raw-path" take the same export through the command a shop runs on its own files (no
mapping file: the contract as is): each file is checked and written contract-shaped first; the first of them
converts every file (and dbt runs: its raw files are new copies), the second finds every file unchanged, reuses
the copies and runs nothing (python_jobs/mapping/converted.py). SQL models
alone: every SQL model rebuilt as in a full build (`dbt run --full-refresh`, two dbt threads) with no Python model
beside it, on the last night's export; its SQL CPU is the process's own from the first node's start to the last
node's end (python_jobs/bench/sql_alone.py). Scratch, logs, run_results.json and the process tree's samples of each
stage: .bench/build/<customers>/."""


def size_label(n: int) -> str:
    if n >= MILLION and n % MILLION == 0:
        return f"{n // MILLION}M"
    return f"{n // 1000}k" if n % 1000 == 0 else f"{n:,}"


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(round(seconds), 60)
    return f"{minutes} m {sec:02d} s"


def memory(mb: float) -> str:
    return f"{mb / 1024:.2f} GiB" if mb >= 1024 else f"{mb:.0f} MiB"


def stages(rows: list[dict]) -> dict[tuple[int, str], dict]:
    """(size, stage) -> {metric: value, and per NODE_LISTS key: [(node, seconds)]}, in run order."""
    out: dict[tuple[int, str], dict] = {}
    for r in rows:
        if r.get("area") != "build":
            continue
        rec = out.setdefault((int(r["size"]), r["stage"]), {key: [] for key in NODE_LISTS.values()})
        listed = next((key for what, key in NODE_LISTS.items() if r["metric"].startswith(f"{what} ")), None)
        if listed:
            rec[listed].append((r["metric"].split(": ", 1)[1], r["value"]))
        else:
            rec[r["metric"]] = r["value"]
    return out


def _fits(rec: dict) -> str:
    keys = ("churn_runs_trained", "churn_models_fitted", "weak_models_fitted")
    if not any(k in rec for k in keys):
        return "n/a"
    runs, models, weak = (f"{int(rec[k])}" if k in rec else "n/a" for k in keys)
    return f"{runs} runs / {models} models / {weak} weak"


def _texts(rec: dict) -> str:
    if "texts_sent_tag" not in rec:
        return "n/a"
    return f"{int(rec['texts_sent_tag']):,} / {int(rec['texts_sent_embed']):,}"


def _peaks(rec: dict) -> str:
    """The largest process, and the whole tree's sum where it was sampled."""
    tree = rec.get("peak_tree_rss_mb")
    return memory(rec["peak_rss_mb"]) + (f" (tree {memory(tree)})" if tree else "")


def _peak(rec: dict) -> float:
    """What the memory goal is judged on: the tree's sum where sampled (worker processes count too)."""
    return rec.get("peak_tree_rss_mb") or rec["peak_rss_mb"]


def stage_table(recs: dict[tuple[int, str], dict]) -> str:
    head = (
        "| size | stage | wall | CPU user+sys | peak RSS | raw rows/s | slowest nodes | dbt elapsed | texts sent (tag / embed) "
        "| model fits |\n|---|---|---:|---:|---:|---:|---|---:|---:|---|\n"
    )
    lines = []
    for (size, stage), rec in recs.items():
        failed = f" **FAILED (exit {int(rec['exit_code'])})**" if rec.get("exit_code") else ""
        slowest = ", ".join(f"{name} {duration(s)}" for name, s in rec["slowest"]) or "-"
        rate = f"{rec['rows_per_s']:,.0f}" if "rows_per_s" in rec else "n/a"
        texts = _texts(rec) if "dbt_s" in rec else "-"
        dbt = duration(rec["dbt_s"]) if "dbt_s" in rec else "-"
        fits = _fits(rec) if "dbt_s" in rec else "-"
        lines.append(
            f"| {size_label(size)} | {stage}{failed} | {duration(rec['wall_s'])} | {duration(rec['cpu_s'])} "
            f"| {_peaks(rec)} | {rate} | {slowest} | {dbt} | {texts} | {fits} |"
        )
    return head + "\n".join(lines)


SCHEDULE_NOTES = """\
Critical path: from the node that ended last, back through the upstream node (or data test of one: `dbt build`
waits for a parent's tests) that ended last before each step began (python_jobs/bench/dbt_schedule.py). Its
summed node time below dbt's elapsed time is time its nodes waited for a free thread: a build whose critical
path is near its elapsed time gets shorter only by cutting nodes off the chain, one whose path is far below it
mainly by less work in total (both threads were busy). One node running: seconds with a single dbt node busy
(a Python node on one core leaves the other idle then). Most CPU: the stage's process-tree CPU, sampled every
0.5 s, each interval's share split among the nodes that ran in it by how long each ran, the worker processes'
share only among the Python models that ran (an estimate). Running at the RSS peak: the largest sampled RSS of
the process tree while a node ran, and the nodes running then."""


def _at_peak(rec: dict) -> str:
    """The sampled tree RSS peak and the nodes running then (with how long each ran in all)."""
    if not rec.get("peak_sampled_rss_mb"):
        return "-"
    running = ", ".join(f"{name} {duration(s)}" for name, s in rec["at_peak"])
    return f"{memory(rec['peak_sampled_rss_mb'])}: {running}"


def schedule_table(recs: dict[tuple[int, str], dict]) -> str:
    """Per dbt stage: elapsed time, node time on the critical path, seconds with one node running, the longest
    nodes of the critical path and the nodes that used the most CPU."""
    head = (
        "| size | stage | dbt elapsed | node time on the critical path | one node running "
        "| longest nodes on the critical path | most CPU (sampled) | running at the RSS peak |\n"
        "|---|---|---:|---:|---:|---|---|---|\n"
    )

    def nodes(listed: list[tuple[str, float]]) -> str:
        return ", ".join(f"{name} {duration(s)}" for name, s in listed) or "-"

    lines = [
        f"| {size_label(size)} | {stage} | {duration(rec['dbt_s'])} | {duration(rec['critical_path_s'])} "
        f"| {duration(rec['one_node_s'])} | {nodes(rec['chain'])} | {nodes(rec['cpu'])} | {_at_peak(rec)} |"
        for (size, stage), rec in recs.items()
        if "critical_path_s" in rec
    ]
    return head + "\n".join(lines) if lines else ""


def _verdict(size: int, ok: bool, rec: dict) -> str:
    if rec.get("exit_code"):
        return "not met (the stage failed)"
    if size != MILLION:
        return "not judged (the goal is at 1M)"
    return "**met**" if ok else "**not met**"


def _goal_rows(recs: dict[tuple[int, str], dict]) -> list[str]:
    """(goal, size, measured, verdict) for each stage goal at each size run."""
    lines = []

    def check(goal: str, size: int, rec: dict, measured: str, ok: bool | None) -> None:
        verdict = "n/a (not recorded)" if ok is None else _verdict(size, ok, rec)
        lines.append(f"| {goal} | {size_label(size)} | {measured} | {verdict} |")

    for size in sorted({s for s, _ in recs}):
        full, still = recs.get((size, "full build")), recs.get((size, "no-change rebuild"))
        if full:
            wall, rss = full["wall_s"], _peak(full)
            check("full build wall < 15 min", size, full, duration(wall), wall < 15 * 60)
            check(
                "full build peak RSS < 8 GiB (whole process tree)", size, full, _peaks(full), rss < 8 * 1024
            )
        for stage, goal in NIGHTLY_STAGES.items():
            if nightly := recs.get((size, stage)):
                check(goal, size, nightly, duration(nightly["wall_s"]), nightly["wall_s"] < 120)
        if still:
            wall = still["wall_s"]
            check("no-change rebuild wall < 30 s", size, still, duration(wall), wall < 30)
            sent = still.get("texts_sent_tag", 0) + still.get("texts_sent_embed", 0)
            known = "texts_sent_tag" in still
            check(
                "no-change: 0 texts sent to any model",
                size,
                still,
                _texts(still),
                sent == 0 if known else None,
            )
            fits = [still[k] for k in ("churn_runs_trained", "weak_models_fitted") if k in still]
            check("no-change: 0 model fits", size, still, _fits(still), sum(fits) == 0 if fits else None)
        if through_export := recs.get((size, EXPORT_NO_CHANGE)):
            wall = through_export["wall_s"]
            goal = "no-change rebuild wall < 30 s, through `churn build --raw-path` (export checked)"
            check(goal, size, through_export, duration(wall), wall < 30)
    return lines


# SQL cost, three ways: in the full build, dbt's node times summed (two threads: a node's time includes waiting
# for the cores the other node holds) and the process tree's sampled CPU split among the nodes that ran
# (dbt_schedule: an estimate, it depends on what ran beside each node); and the process's CPU while the SQL models
# ran alone (bench.sql_alone: measured, nothing to split)
GROWTH_METRICS = {
    ("full build", "sql_model_s"): "SQL model time",
    ("full build", "sql_model_cpu_s"): "SQL model CPU (sampled, split among the nodes that ran)",
    (SQL_ALONE, "sql_alone_cpu_s"): "SQL models alone, CPU",
}


def _user_cpu(rec: dict) -> float | None:
    """The SQL alone's user CPU: its CPU less its system CPU (None where either is missing)."""
    cpu, sys_cpu = rec.get("sql_alone_cpu_s"), rec.get("sql_alone_sys_s")
    return cpu - sys_cpu if cpu and sys_cpu is not None else None


# what the SQL alone's growth splits into (diagnostic, not judged): the SQL's own work is user CPU; system CPU is
# the kernel's, mostly zeroing the fresh pages DuckDB's allocations touch (docs/benchmarks/2026-12-07-session54.md),
# so it grows with the page faults (pages touched fresh) times what one costs on this machine (session 55)
GROWTH_SPLIT = {
    "user CPU": _user_cpu,
    "system CPU": methodcaller("get", "sql_alone_sys_s"),
    "page faults": methodcaller("get", "sql_alone_faults"),
}


def _round_ratios(
    recs: dict[tuple[int, str], dict], small: int, big: int, value: Callable[[dict], float | None]
) -> list[float]:
    """Each SQL-alone round's growth of `value` (of a stage record): round k at the big size over round k at the
    small one (run minutes apart, so the VM's drift between rounds cancels)."""
    ratios, k = [], 1
    while (a := recs.get((small, f"{SQL_ALONE_ROUND}{k}"))) and (
        b := recs.get((big, f"{SQL_ALONE_ROUND}{k}"))
    ):
        if value(a) and value(b) and not a.get("exit_code") and not b.get("exit_code"):
            ratios.append(value(b) / value(a))
        k += 1
    return ratios


def _growth_rows(recs: dict[tuple[int, str], dict]) -> list[str]:
    """SQL-model time and CPU growth against the growth of the raw rows the stage read, between consecutive
    sizes run. In rounds, the SQL alone's growth is the median of the rounds' own ratios."""
    lines = []
    for (stage_name, metric), label in GROWTH_METRICS.items():
        sizes = sorted(s for s, stage in recs if stage == stage_name and recs[(s, stage)].get(metric))
        for small, big in zip(sizes, sizes[1:], strict=False):
            a, b = recs[(small, stage_name)], recs[(big, stage_name)]
            if not a.get("raw_rows"):
                continue
            time_x, data_x = b[metric] / a[metric], b["raw_rows"] / a["raw_rows"]
            measured = f"{label} {duration(a[metric])} -> {duration(b[metric])} = {time_x:.2f}x"
            if stage_name == SQL_ALONE and (
                ratios := _round_ratios(recs, small, big, methodcaller("get", metric))
            ):
                time_x = statistics.median(ratios)
                split = [
                    f"{kind} {statistics.median(parts):.2f}x"
                    for kind, value in GROWTH_SPLIT.items()
                    if (parts := _round_ratios(recs, small, big, value))
                ]
                measured = (
                    f"{label}, median of {len(ratios)} rounds' ratios ("
                    + ", ".join(f"{x:.2f}x" for x in ratios)
                    + f") = {time_x:.2f}x (medians {duration(a[metric])} -> {duration(b[metric])}"
                    + "".join(f"; {part}" for part in split)
                    + ")"
                )
            judged = (small, big) == GROWTH_SIZES
            verdict = (
                ("**met**" if time_x <= data_x else "**not met**")
                if judged
                else "not judged (the goal is 300k -> 1M)"
            )
            lines.append(
                f"| SQL growth <= data growth | {size_label(small)} -> {size_label(big)} | {measured} "
                f"for {data_x:.2f}x raw rows | {verdict} |"
            )
    if not all((s, "full build") in recs for s in GROWTH_SIZES):
        lines.append(
            "| SQL growth <= data growth | 300k -> 1M | not measured (run `--customers 300000 --customers "
            "1000000`) | n/a |"
        )
    return lines


def goals(recs: dict[tuple[int, str], dict]) -> str:
    head = "| goal (issue 10, at 1M customers) | size | measured | verdict |\n|---|---|---|---|\n"
    return head + "\n".join(_goal_rows(recs) + _growth_rows(recs))


def markdown(rows: list[dict]) -> str:
    recs = stages(rows)
    if not recs:
        return ""
    where = schedule_table(recs)
    where = f"\n## Where dbt's time went\n\n{where}\n\n{SCHEDULE_NOTES}\n" if where else ""
    return f"## Build stages\n\n{stage_table(recs)}\n\n{NOTES}\n{where}\n## Goals\n\n{goals(recs)}\n"
