"""The enrichment tally table (python_jobs.text.runs): two dbt threads writing it at once never deadlock."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import duckdb

from python_jobs.text.runs import TABLE, RunLog
from python_jobs.text.tally import Tally


def test_two_models_finishing_together_do_not_deadlock(tmp_path: Path) -> None:
    """A 1M build hung for 45 minutes here: one model's commit checkpointed and waited for the other thread's
    open scan, while that thread waited for a Python lock the first one held. Reproduced: thread A leaves a
    result unfetched (its scan stays open), thread B's insert checkpoints (threshold 1 byte), then A writes."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create table big as select range as i from range(3000000)")
    con.execute("set checkpoint_threshold = '1B'")
    a, b = con.cursor(), con.cursor()
    a.execute("select * from big")  # not fetched: the scan holds its table until the cursor's next statement
    finished: list[str] = []

    def finish(cursor: duckdb.DuckDBPyConnection, name: str) -> None:
        RunLog(cursor, SimpleNamespace(database=None, schema="main", identifier=name)).finish(Tally(), "m", 0)
        finished.append(name)

    threads = [
        threading.Thread(target=finish, args=(cur, name), daemon=True) for cur, name in ((b, "b"), (a, "a"))
    ]
    for thread in threads:
        thread.start()
        thread.join(timeout=1)  # b first, well into its commit, before a writes
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(finished) == ["a", "b"], "the tally writes deadlocked"
    assert con.execute(f"select count(*) from main.{TABLE}").fetchone()[0] == 2
