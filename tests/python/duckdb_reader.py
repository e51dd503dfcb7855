"""A DuckDB reader in another process: fcntl locks are per process, so one in the test's own would not count."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def reader_process(db: Path, query: str = "select 1") -> Iterator[str]:
    """Open `db` read-only in another process and run `query`; yields its first value, as text, while that
    process keeps the file open (a dashboard)."""
    script = (
        f"import duckdb, time; c = duckdb.connect({str(db)!r}, read_only=True); "
        f"print(c.execute({query!r}).fetchone()[0], flush=True); time.sleep(60)"
    )
    reader = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        yield reader.stdout.readline().strip()
    finally:
        reader.kill()
        reader.wait()
