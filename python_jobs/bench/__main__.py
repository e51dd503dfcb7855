"""Run every area's benchmark and write one results table (Markdown + CSV) under .bench/.

Each area module exposes `run(quick: bool) -> list[dict]` with rows
{area, case, metric, value, unit}. `python -m python_jobs.bench [--quick] [--area synth ...]`.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import logging
import platform
import time
from pathlib import Path

AREAS = ["synth", "text", "churn"]
FIELDS = ["area", "case", "metric", "value", "unit"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (minutes, not tens of minutes)")
    parser.add_argument("--area", action="append", choices=AREAS, help="run only these areas")
    parser.add_argument("--out", type=Path, default=Path(".bench"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    rows: list[dict] = []
    for area in args.area or AREAS:
        module = importlib.import_module(f"python_jobs.bench.{area}_bench")
        t0 = time.perf_counter()
        rows += module.run(quick=args.quick)
        logging.info("bench %s done in %.1fs", area, time.perf_counter() - t0)

    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "results.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    header = f"Benchmarks on {platform.node()} ({platform.processor() or platform.machine()}), quick={args.quick}\n\n"
    table = "| area | case | metric | value | unit |\n|---|---|---|---:|---|\n" + "\n".join(
        f"| {r['area']} | {r['case']} | {r['metric']} | {r['value']:,.3f} | {r['unit']} |" for r in rows
    )
    (args.out / "results.md").write_text(header + table + "\n")
    print(header + table)


if __name__ == "__main__":
    main()
