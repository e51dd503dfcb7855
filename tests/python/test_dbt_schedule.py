"""The bench's account of where a dbt build's time went (python_jobs/bench/dbt_schedule.py)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from python_jobs.bench import build_bench
from python_jobs.bench.build_results import NODE_LISTS, SQL_ALONE, markdown
from python_jobs.bench.dbt_schedule import at_peak, cpu_by_node, schedule, seconds_by_concurrency, spans

T0 = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)


def _result(uid: str, start: float, end: float) -> dict:
    def at(s: float) -> str:
        return (T0 + timedelta(seconds=s)).isoformat().replace("+00:00", "Z")

    return {
        "unique_id": uid,
        "execution_time": end - start,
        "timing": [
            {"name": "compile", "started_at": at(start), "completed_at": at(start + 0.01)},
            {"name": "execute", "started_at": at(start + 0.01), "completed_at": at(end)},
        ],
    }


def _node(kind: str, *parents: str) -> dict:
    return {"resource_type": kind, "depends_on": {"nodes": list(parents)}}


# a -> b -> d and c -> d; test t checks a, so b waits for t too. c runs beside a; e starts before b ends, so it
# cannot have been released by b.
MANIFEST = {
    "nodes": {
        "model.p.a": _node("model"),
        "test.p.t": _node("test", "model.p.a"),
        "model.p.b": _node("model", "model.p.a"),
        "model.p.c": _node("model"),
        "model.p.d": _node("model", "model.p.b", "model.p.c"),
        "model.p.e": _node("model", "model.p.b"),
    }
}
RESULTS = {
    "results": [
        _result("model.p.a", 0, 10),
        _result("model.p.c", 0, 5),
        _result("test.p.t", 10, 10.2),
        _result("model.p.b", 10.3, 20),
        _result("model.p.d", 20.1, 25),
        _result("model.p.e", 12, 13),
    ]
}


def test_critical_path_goes_back_through_the_tests_a_node_waits_for() -> None:
    out = schedule(RESULTS, MANIFEST, top=2)
    assert out["critical_path_nodes"] == 4.0  # a, t, b, d: not c (ended long before d) and not e
    assert out["critical_path_s"] == pytest.approx(10 + 0.2 + 9.7 + 4.9)
    assert out["chain"] == [("model.p.a", pytest.approx(10)), ("model.p.b", pytest.approx(9.7))]


def test_seconds_by_concurrency_cover_the_build_exactly() -> None:
    by_k = seconds_by_concurrency(spans(RESULTS))
    assert by_k[2] == pytest.approx(5 + 1)  # a beside c, b beside e
    assert by_k[1] == pytest.approx(5 + 0.2 + 9.7 - 1 + 4.9)
    assert by_k[0] == pytest.approx(0.1 + 0.1)
    assert sum(by_k.values()) == pytest.approx(25)


def test_cpu_is_split_among_the_nodes_that_ran_by_how_long_each_ran() -> None:
    ran = spans(RESULTS)
    t0 = ran["model.p.a"].start
    # 0-5 s: a and c both ran the whole interval; 5-10 s: a alone; 25-30 s: nothing ran (dbt's own end)
    samples = [(t0, 0.0), (t0 + 5, 8.0), (t0 + 10, 13.0), (t0 + 25, 40.0), (t0 + 30, 41.0)]
    series = [(at, used, 1, used) for at, used in samples]  # all of it in the dbt process
    cpu = cpu_by_node(ran, series)
    assert cpu["model.p.c"] == pytest.approx(4.0)
    assert cpu["model.p.a"] == pytest.approx(4.0 + 5.0)
    assert sum(cpu.values()) == pytest.approx(40.0)  # the second after the last node is nobody's
    assert cpu["model.p.b"] > cpu["model.p.d"] > cpu["test.p.t"] > 0


def test_worker_processes_cpu_goes_to_the_python_models_that_ran() -> None:
    ran = spans(RESULTS)
    t0 = ran["model.p.a"].start
    # 0-5 s: a (Python, its workers used 6 s) beside c (SQL); the dbt process used 4 s, split between them.
    # 12-13 s: b and e ran, neither Python: the workers' 1 s is split between them as the dbt process's is.
    series = [(t0, 0.0, 1, 0.0), (t0 + 5, 10.0, 1, 4.0), (t0 + 12, 10.0, 1, 4.0), (t0 + 13, 13.0, 1, 6.0)]
    cpu = cpu_by_node(ran, series, starts_workers={"model.p.a"})
    assert cpu["model.p.a"] == pytest.approx(2.0 + 6.0)
    assert cpu["model.p.c"] == pytest.approx(2.0)
    assert cpu["model.p.b"] == pytest.approx(1.5) and cpu["model.p.e"] == pytest.approx(1.5)
    assert sum(cpu.values()) == pytest.approx(13.0)


def test_the_peak_is_the_largest_rss_sampled_while_a_node_ran() -> None:
    ran = spans(RESULTS)
    t0 = ran["model.p.a"].start
    # the largest sample (9 GiB) came after the last node: dbt's own end, nobody's
    series = [
        (t0 + 1, 0.0, 3 * 2**30, 0.0),
        (t0 + 12.5, 1.0, 5 * 2**30, 1.0),
        (t0 + 21, 2.0, 4 * 2**30, 2.0),
        (t0 + 26, 3.0, 9 * 2**30, 3.0),
    ]
    assert at_peak(ran, series) == (5 * 2**30, ["model.p.b", "model.p.e"])
    assert at_peak(ran, []) == (0.0, [])


def test_the_bench_table_says_where_the_time_went(tmp_path: Path) -> None:
    (tmp_path / "run_results.json").write_text(
        json.dumps(RESULTS | {"elapsed_time": 25.0, "metadata": {"invocation_id": "x"}})
    )
    (tmp_path / "manifest.json").write_text(json.dumps(MANIFEST))
    t0 = spans(RESULTS)["model.p.a"].start
    dbt = build_bench.dbt_results(
        tmp_path, [(t0, 0.0, 2**30, 0.0), (t0 + 5, 8.0, 2**31, 8.0), (t0 + 10, 13.0, 2**30, 13.0)]
    )
    values = {"wall_s": 30.0, "cpu_s": 40.0, "peak_rss_mb": 100.0, "exit_code": 0.0}
    values |= {k: dbt[k] for k in build_bench.DBT_VALUES}
    listed = {key: dbt[name] for key, name in NODE_LISTS.items()}
    text = markdown(build_bench._rows(1_000_000, "nightly rebuild", values, listed))
    row = "| 1M | nightly rebuild | 25.0 s | 24.8 s | 18.8 s | a 10.0 s, b 9.7 s, d 4.9 s, t 0.2 s | a 9.0 s, c 4.0 s "
    assert row + "| 2.00 GiB: a 10.0 s |" in text


def test_sql_growth_is_judged_on_node_time_sampled_cpu_and_the_cpu_of_sql_alone() -> None:
    def stages(size: int, raw_rows: float, sql_s: float, sql_cpu_s: float, alone_cpu_s: float) -> list[dict]:
        values = {"wall_s": 60.0, "cpu_s": 90.0, "peak_rss_mb": 100.0, "exit_code": 0.0, "raw_rows": raw_rows}
        full = build_bench._rows(
            size, "full build", values | {"sql_model_s": sql_s, "sql_model_cpu_s": sql_cpu_s}, {}
        )
        # the SQL-alone stage reads the last night's export: a few more raw rows than the full build
        alone = values | {"raw_rows": raw_rows * 1.1, "sql_alone_cpu_s": alone_cpu_s}
        return full + build_bench._rows(size, SQL_ALONE, alone, {})

    rows = stages(300_000, 20e6, 100.0, 150.0, 100.0) + stages(1_000_000, 70e6, 400.0, 450.0, 360.0)
    text = markdown(rows)
    assert (
        "| 300k -> 1M | SQL model time 1 m 40 s -> 6 m 40 s = 4.00x for 3.50x raw rows | **not met** |"
        in text
    )
    sampled = "SQL model CPU (sampled, split among the nodes that ran) 2 m 30 s -> 7 m 30 s = 3.00x for 3.50x"
    assert f"| 300k -> 1M | {sampled} raw rows | **met** |" in text
    alone = (
        "| 300k -> 1M | SQL models alone, CPU 1 m 40 s -> 6 m 00 s = 3.60x for 3.50x raw rows | **not met** |"
    )
    assert alone in text


def test_sql_alone_in_rounds_is_judged_on_the_median_of_the_rounds_ratios() -> None:
    def stages(size: int, cpus: list[float], sys_cpus: list[float], exit_codes: list[float]) -> list[dict]:
        values = {"peak_rss_mb": 1.0, "raw_rows": size * 10.0}
        full = {"wall_s": 1.0, "cpu_s": 1.0, "sql_model_s": size / 1e5}
        rows = build_bench._rows(size, "full build", values | full, {})
        for k, (cpu, sys_cpu, code) in enumerate(zip(cpus, sys_cpus, exit_codes, strict=True), 1):
            measured = {
                "wall_s": cpu / 2,
                "cpu_s": cpu,
                "exit_code": code,
                "sql_alone_cpu_s": cpu,
                "sql_alone_sys_s": sys_cpu,
                "sql_alone_faults": sys_cpu * 1e5 if size < 1e6 else sys_cpu * 2e5,
                "sql_model_s": cpu,
            }
            rows += build_bench._rows(
                size, f"{SQL_ALONE} round {k}", values | measured, {"slowest": [("a", 1.0)]}
            )
        return rows

    rows = stages(300_000, [100.0, 130.0, 90.0], [10.0, 13.0, 10.0], [0.0] * 3) + stages(
        1_000_000, [300.0, 330.0, 360.0], [40.0, 33.0, 60.0], [0, 1, 0]
    )
    medians = {(r["size"], r["metric"]): r["value"] for r in build_bench.sql_alone_medians(rows)}
    assert {r["stage"] for r in build_bench.sql_alone_medians(rows)} == {SQL_ALONE}
    assert medians[(300_000, "sql_alone_cpu_s")] == 100.0 and medians[(300_000, "wall_s")] == 50.0
    assert medians[(1_000_000, "sql_alone_cpu_s")] == 330.0 and medians[(1_000_000, "rounds")] == 3.0
    assert medians[(1_000_000, "exit_code")] == 1.0  # a failed round is not hidden by the median
    text = markdown(rows + build_bench.sql_alone_medians(rows))
    # rounds 1 and 3 (round 2 failed at 1M): 3.00x and 4.00x, so 3.50x; the medians' own ratio (3.30x) would pass.
    # The split, from the same rounds: user 260 / 90 and 300 / 80 s (median 3.32x), system 4x and 6x (5.00x),
    # page faults twice the system CPU's growth (10.00x)
    alone = (
        "SQL models alone, CPU, median of 2 rounds' ratios (3.00x, 4.00x) = 3.50x (medians 1 m 40 s -> 5 m 30 s; "
        "user CPU 3.32x; system CPU 5.00x; page faults 10.00x) for 3.33x raw rows"
    )
    assert f"| 300k -> 1M | {alone} | **not met** |" in text
    # the full build's growth is its own, not the rounds' (their rows carry the same metric names)
    assert "| 300k -> 1M | SQL model time 3.0 s -> 10.0 s = 3.33x for 3.33x raw rows | **met** |" in text
    assert f"| 1M | {SQL_ALONE} round 1 | 2 m 30 s | 5 m 00 s |" in text  # every round in the stage table
    assert f"| 1M | {SQL_ALONE} round 2 **FAILED (exit 1)** | 2 m 45 s |" in text


def test_both_nights_are_judged_against_the_nightly_goal() -> None:
    def night(stage: str, wall_s: float) -> list[dict]:
        values = {"wall_s": wall_s, "cpu_s": wall_s, "peak_rss_mb": 100.0, "exit_code": 0.0}
        return build_bench._rows(1_000_000, stage, values, {})

    text = markdown(night("nightly rebuild", 150.0) + night("later nightly rebuild", 110.0))
    assert (
        "| nightly rebuild wall < 2 min (first night after the full build) | 1M | 2 m 30 s | **not met** |"
        in text
    )
    assert (
        "| nightly rebuild wall < 2 min (a later night, warehouse and export read cold) | 1M | 1 m 50 s | **met** |"
        in text
    )


def test_the_bench_nights_are_quiet_nights() -> None:
    """Two nights in a row on which no snapshot joins the spine and no horizon closes (as-of dates)."""
    vars = {"churn_horizon_days": 90}
    # the default world: as-of 2025-12-31; 2025-12-30 closes 2025-10-01's horizon
    assert build_bench.quiet_night(date(2025, 12, 31), vars) == date(2025, 12, 29)
    # snapshot 2025-12-01 joins at as-of 12-02; 2025-09-01's horizon closes at 11-30
    assert build_bench.quiet_night(date(2025, 12, 3), vars) == date(2025, 11, 29)
    assert build_bench.quiet_night(date(2025, 12, 20), vars) == date(2025, 12, 20)


def test_a_cold_stage_takes_the_files_under_its_folders_not_what_links_point_to(tmp_path: Path) -> None:
    kept = tmp_path / "elsewhere.parquet"
    kept.write_bytes(b"x" * 5000)
    work = tmp_path / "warehouse"
    (work / "target").mkdir(parents=True)
    (work / "churn.duckdb").write_bytes(b"d" * 3000)
    (work / "target" / "run_results.json").write_text("{}")
    (work / "export").symlink_to(kept)  # a link's file belongs to another folder: left alone
    assert build_bench.drop_page_cache(work) == 3000 + 2
