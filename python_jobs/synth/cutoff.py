"""Cut a raw world back to what an export taken at midnight of a day would have held.

`cut_world(src, dst, before)` copies `src/<table>.parquet` to `dst/` keeping only what was known before
`before` 00:00 (UTC, like every raw timestamp):

- event rows stamped at or after `before` are dropped: customers by `signup_at`, orders by `ordered_at`,
  sessions by `started_at`, coupon redemptions by `redeemed_at`, reviews and tickets by `created_at`,
  interventions by `sent_at` (rows with a null stamp are kept: staging quarantines them as before);
- order items go with their order: an item is dropped when every row of its order id was dropped (items of
  orphan order ids, which no cut can date, are kept);
- status facts that happened at or after `before` are undone on the orders kept: `delivered_at`,
  `cancelled_at` and `returned_at` become null and a cancellation or return not yet made goes back to
  `completed` (macros/order_status_at.sql reads an order as cancelled or returned only from its timestamp;
  a null `cancelled_at` with status cancelled means "cancelled when placed", so the status must change too);
- the truth tables are cut consistently: truth_customers to the customers kept, truth_texts to the reviews and
  tickets kept, truth_campaigns to campaigns started before the cut;
- every other file (and any table absent from the contract) is copied unchanged.

One set-based DuckDB query per table, streamed as Arrow row groups into a Parquet writer that keeps the
source file's schema (no Python row loop), so a 1M-customer world (~70M rows) is cut within DuckDB's memory
limit. Files appear atomically (written as `.name.tmp`, renamed).

    python -m python_jobs.synth.cutoff SRC DST YYYY-MM-DD
"""

from __future__ import annotations

import argparse
import logging
import shutil
import time
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from python_jobs.warehouse import first_row

log = logging.getLogger(__name__)

# table -> the timestamp column that dates its rows
EVENT_TS = {
    "customers": "signup_at",
    "orders": "ordered_at",
    "sessions": "started_at",
    "coupon_redemptions": "redeemed_at",
    "reviews": "created_at",
    "support_tickets": "created_at",
    "interventions": "sent_at",
    "truth_campaigns": "started_at",
}
# status column value -> the timestamp that makes it known
STATUS_FACTS = {"cancelled": "cancelled_at", "returned": "returned_at"}
LATER_FACTS = ("delivered_at", "cancelled_at", "returned_at")
# tables cut by another table's keys (written after their parents)
DEPENDENT = ("order_items", "truth_customers", "truth_texts")
CUT_TABLES = (*EVENT_TS, *DEPENDENT)
ROW_GROUP_ROWS = 1_048_576


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


class _Cut:
    """One cut: a DuckDB connection, the source and destination folders, the cut timestamp literal."""

    def __init__(self, src: Path, dst: Path, before: date, memory_limit: str | None, threads: int | None):
        self.src, self.dst = src, dst
        self.at = f"timestamp '{before.isoformat()} 00:00:00'"
        self.con = duckdb.connect()
        (dst / ".cut_tmp").mkdir(parents=True, exist_ok=True)
        self.con.execute(f"set temp_directory = {_lit(dst / '.cut_tmp')}")
        self.con.execute("set preserve_insertion_order = true")
        if memory_limit:
            self.con.execute(f"set memory_limit = '{memory_limit}'")
        if threads:
            self.con.execute(f"set threads = {int(threads)}")

    def file(self, table: str, where: Path | None = None) -> Path:
        return (where or self.src) / f"{table}.parquet"

    def scan(self, table: str, where: Path | None = None) -> str:
        return f"read_parquet({_lit(self.file(table, where))})"

    def columns(self, table: str) -> list[str]:
        return [r[0] for r in self.con.execute(f"describe select * from {self.scan(table)}").fetchall()]

    def kept(self, column: str) -> str:
        return f"({_q(column)} is null or {_q(column)} < {self.at})"

    def copy(self, table: str, query: str) -> int:
        """Stream the query's rows into dst/<table>.parquet with the source file's schema: DuckDB's own COPY
        (2.0) marks a column NOT NULL when the rows read happen to hold no null, so a cut would change it."""
        tmp = self.dst / f".{table}.parquet.tmp"
        schema = pq.read_schema(self.file(table))
        rows = 0
        with pq.ParquetWriter(tmp, schema, compression="zstd") as out:
            for batch in self.con.sql(query).to_arrow_reader(ROW_GROUP_ROWS):
                out.write_batch(batch.cast(schema), row_group_size=ROW_GROUP_ROWS)
                rows += batch.num_rows
        tmp.replace(self.file(table, self.dst))
        return rows

    def query(self, table: str) -> str:
        cols = self.columns(table)
        if table in EVENT_TS and EVENT_TS[table] in cols:
            select = self.orders_select(cols) if table == "orders" else "*"
            return f"select {select} from {self.scan(table)} where {self.kept(EVENT_TS[table])}"
        if table == "order_items" and self.file("orders").exists() and "order_id" in cols:
            # order ids all of whose rows are dropped (a late duplicate of a kept order keeps its items)
            dropped = f"""
                select distinct order_id from {self.scan("orders")}
                where order_id is not null and not {self.kept("ordered_at")}
                except
                select order_id from {self.scan("orders")} where {self.kept("ordered_at")}
                  and order_id in (select order_id from {self.scan("orders")} where not {self.kept("ordered_at")})
            """
            return f"select i.* from {self.scan(table)} i anti join ({dropped}) d on i.order_id = d.order_id"
        if table == "truth_customers" and self.file("customers", self.dst).exists():
            keep = f"select customer_id from {self.scan('customers', self.dst)} where customer_id is not null"
            return f"select * from {self.scan(table)} where customer_id in ({keep})"
        if table == "truth_texts":
            parts = [
                f"select '{source}' as source, {key} as source_id from {self.scan(parent, self.dst)}"
                for source, parent, key in (
                    ("review", "reviews", "review_id"),
                    ("ticket", "support_tickets", "ticket_id"),
                )
                if self.file(parent, self.dst).exists()
            ]
            if parts:
                keep = " union all ".join(parts)
                return f"select t.* from {self.scan(table)} t semi join ({keep}) k using (source, source_id)"
        return f"select * from {self.scan(table)}"

    def orders_select(self, cols: list[str]) -> str:
        """Undo the delivery, cancellation and return facts that come at or after the cut."""
        replace = [f"case when {self.kept(c)} then {_q(c)} end as {_q(c)}" for c in LATER_FACTS if c in cols]
        undo = [
            f"when lower(trim(status)) = '{value}' and not {self.kept(ts)} then 'completed'"
            for value, ts in STATUS_FACTS.items()
            if ts in cols
        ]
        if "status" in cols and undo:
            replace.append(f"case {' '.join(undo)} else status end as status")
        return f"* replace ({', '.join(replace)})" if replace else "*"

    def close(self) -> None:
        self.con.close()
        shutil.rmtree(self.dst / ".cut_tmp", ignore_errors=True)


def cut_world(
    src_dir: str | Path,
    dst_dir: str | Path,
    before: date | str,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> dict[str, int]:
    """Write `dst_dir` as the raw world `src_dir` would have been exported at midnight of `before`.

    Returns rows written per cut table. Other files and folders are copied unchanged; `dst_dir` must differ
    from `src_dir`. `memory_limit` (e.g. "4GB") and `threads` bound DuckDB (default: its own settings).
    """
    src, dst = Path(src_dir).resolve(), Path(dst_dir).resolve()
    if src == dst:
        raise ValueError("cut_world needs a destination other than its source")
    if isinstance(before, str):
        before = date.fromisoformat(before)
    if isinstance(before, datetime):
        before = before.date()
    dst.mkdir(parents=True, exist_ok=True)
    cut = _Cut(src, dst, before, memory_limit, threads)
    rows: dict[str, int] = {}
    try:
        for table in CUT_TABLES:
            if cut.file(table).exists():
                t0 = time.perf_counter()
                rows[table] = cut.copy(table, cut.query(table))
                log.info("cut %s: %s rows (%.1fs)", table, f"{rows[table]:,}", time.perf_counter() - t0)
    finally:
        cut.close()
    cut_files = {f"{t}.parquet" for t in CUT_TABLES}
    for path in sorted(src.iterdir()):
        if path.name in cut_files or path.name.startswith("."):
            continue
        if path.is_dir():
            shutil.copytree(path, dst / path.name, dirs_exist_ok=True)
        else:
            shutil.copy2(path, dst / path.name)
    return rows


def last_order_day(raw_dir: str | Path) -> date:
    """The day of the last order (orders stamped in the future, i.e. after today, are ignored as dirt)."""
    scan = f"read_parquet({_lit(Path(raw_dir) / 'orders.parquet')})"
    with duckdb.connect() as con:
        (day,) = first_row(
            con.execute(f"select max(ordered_at)::date from {scan} where ordered_at::date <= current_date")
        )
    if day is None:
        raise ValueError(f"no dated order in {raw_dir}")
    return day


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("src", type=Path, help="raw world folder (churn generate --out)")
    parser.add_argument("dst", type=Path, help="folder to write the cut world to")
    parser.add_argument("before", type=date.fromisoformat, help="YYYY-MM-DD: keep what was known before it")
    parser.add_argument("--memory-limit", default=None, help="DuckDB memory_limit, e.g. 4GB")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    rows = cut_world(args.src, args.dst, args.before, memory_limit=args.memory_limit)
    for table, n in rows.items():
        print(f"{table:<20} {n:>14,}")
    print(f"written to {args.dst}")


if __name__ == "__main__":
    main()
