"""A Python model must not leave a query result open: a later commit that checkpoints the database would wait
for it forever (a forced 1M rebuild hung in customer_segments' commit). only_row reads a result to its end."""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb

from python_jobs.warehouse import only_row


def _commit_that_checkpoints(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether a write on another cursor, committed past the checkpoint threshold, finishes within 30 s."""
    writer, done = con.cursor(), threading.Event()

    def write() -> None:
        writer.execute("begin")
        writer.execute("create table copied as select * from t")
        writer.execute("commit")
        done.set()

    threading.Thread(target=write, daemon=True).start()
    return done.wait(30)


def test_only_row_leaves_no_result_open_to_block_a_checkpoint(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create table t as select range as i, 'f' || (range % 3) as f from range(200000)")
    con.execute("checkpoint")
    con.execute("set checkpoint_threshold = '1KB'")
    reader = con.cursor()
    assert only_row(reader.table("t").aggregate("count(distinct f)")) == (3,)
    assert _commit_that_checkpoints(con), "a commit waited on a result only_row left open"
