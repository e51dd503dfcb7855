"""Atomic publishing (design section 8): build into a working copy, then swap it in with one rename.

BI readers open `warehouse/churn.duckdb`; while dbt builds they keep seeing the last complete build, and
they never see a half-built or failed one. The working copy starts from the published file so incremental
models keep their state.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


def working_path(published: Path) -> Path:
    return published.with_name(f".{published.stem}.building{published.suffix}")


def build_and_publish(published: Path, build: Callable[[Path], T]) -> T:
    """Run `build(working_db)`; on success atomically replace `published` with the working copy."""
    work = working_path(published)
    published.parent.mkdir(parents=True, exist_ok=True)
    for stale in (work, work.with_name(work.name + ".wal")):
        stale.unlink(missing_ok=True)
    if published.exists():
        shutil.copy2(published, work)
    result = build(work)  # raises on failure: the published file is untouched
    os.replace(work, published)
    log.info("published %s", published)
    return result
