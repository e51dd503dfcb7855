"""Run every area's benchmark and write one results table (Markdown + CSV) under .bench/.

Each area module exposes `run(quick: bool) -> list[dict]` with rows
{area, case, metric, value, unit}. `python -m python_jobs.bench [--quick] [--area synth ...]`.
An area whose module also has `markdown(rows) -> str` renders its own section of results.md (the build area:
one row per size and stage, and issue 10's goals); the CSV holds every row of every area.
Build sizes: 100k by default, 20k with --quick, plus 1M with --million, or exactly --customers N (repeatable);
--sql-alone-rounds N repeats the SQL-alone stage (the SQL growth goal's measure), sizes interleaved.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import inspect
import logging
import os
import platform
import time
from importlib.metadata import version
from pathlib import Path

AREAS = ["synth", "text", "churn", "build", "steps", "engines"]
FIELDS = ["area", "case", "metric", "value", "unit"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (minutes, not tens of minutes)")
    parser.add_argument("--area", action="append", choices=AREAS, help="run only these areas")
    parser.add_argument("--out", type=Path, default=Path(".bench"))
    parser.add_argument("--million", action="store_true", help="build area: add the 1M-customer run")
    parser.add_argument(
        "--customers", type=int, action="append", help="build area: these sizes instead (repeatable)"
    )
    parser.add_argument(
        "--sql-alone-rounds",
        type=int,
        default=1,
        help="build area: run each size's SQL-alone stage this many times, sizes interleaved, and judge the SQL's "
        "growth on the median of the rounds' own ratios (each round's sizes run minutes apart; 3 or more)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    rows: list[dict] = []
    sections: list[str] = []
    own: set[str] = set()  # areas that render their own section (their rows stay out of the area table)
    options = {"million": args.million, "sizes": args.customers, "sql_alone_rounds": args.sql_alone_rounds}
    for area in args.area or AREAS:
        module = importlib.import_module(f"python_jobs.bench.{area}_bench")
        accepted = inspect.signature(module.run).parameters
        t0 = time.perf_counter()
        area_rows = module.run(quick=args.quick, **{k: v for k, v in options.items() if k in accepted})
        logging.info("bench %s done in %.1fs", area, time.perf_counter() - t0)
        rows += area_rows
        if hasattr(module, "markdown"):
            own.add(area)
            sections.append(module.markdown(area_rows))

    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "results.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    header = (
        f"Benchmarks on {platform.node()} ({platform.processor() or platform.machine()}, {os.cpu_count()} cores), "
        f"quick={args.quick}, DuckDB memory_limit {os.environ.get('CHURN_DUCKDB_MEMORY', '5GB')} "
        f"(CHURN_DUCKDB_MEMORY), DuckDB {version('duckdb')}, dbt-duckdb {version('dbt-duckdb')}, "
        f"run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n\n"
    )
    table_rows = [r for r in rows if r["area"] not in own]
    table = "| area | case | metric | value | unit |\n|---|---|---|---:|---|\n" + "\n".join(
        f"| {r['area']} | {r['case']} | {r['metric']} | {r['value']:,.3f} | {r['unit']} |" for r in table_rows
    )
    text = header + (table + "\n\n" if table_rows else "") + "\n".join(s for s in sections if s)
    (args.out / "results.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
