"""The spare warehouse file, where files cannot be cloned: the next build's working copy, made without a byte copy.

The file a build replaces is kept under a second name (`keep`; after a first build, a copy of what it published:
`first`). Right after publishing, the spare is brought up to date with the new published file (`refresh`, by
block_sync), while the blocks the build wrote are still in the page cache, and a stamp records both files' identity
and state (device, inode, size, mtime and ctime). The next build takes the spare as its working copy at once
(`take`) when the stamp still holds, and reads ahead what it will need beside the build (`reads_ahead`); anything
that wrote to either file since, or replaced one, changes its stat, and the build syncs the spare before dbt may
open it, as before (publish.start_working_copy). At 1M customers, nightlies that started with the warehouse out
of the page cache spent 9.4-20.3 s there, opening the published file and syncing the spare, and dbt waited
(1.7-2.2 s when both were cached).
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from python_jobs import block_sync

log = logging.getLogger(__name__)


def path(published: Path) -> Path:
    return published.with_name(f".{published.stem}.spare{published.suffix}")


def linking(published: Path) -> Path:
    """The spare's next version while its link is made."""
    return path(published).with_name(path(published).name + ".linking")


def syncing(published: Path) -> Path:
    """The spare while `refresh` writes it: a refresh cut short leaves no spare, only this file, which the next
    build removes (a half-written block must never be read as a spare's)."""
    return path(published).with_name(path(published).name + ".syncing")


def stamp_path(published: Path) -> Path:
    return path(published).with_name(path(published).name + ".stamp")


def leftovers(published: Path) -> tuple[Path, ...]:
    """Files a spare's update cut short leaves behind; each build removes them first."""
    stamp = stamp_path(published)
    return linking(published), syncing(published), stamp.with_name(stamp.name + ".part")


def keeps() -> bool:
    return os.environ.get("CHURN_SPARE_WAREHOUSE", "1") != "0" and block_sync.supported()


def keep(published: Path, wanted: bool) -> None:
    """Keep the file about to be replaced as the spare (a second name for it), or drop the spare."""
    spare = path(published)
    stamp_path(published).unlink(missing_ok=True)
    if not (wanted and keeps()):
        spare.unlink(missing_ok=True)
        return
    try:
        os.link(published, linking(published))
    except OSError as error:  # a filesystem without hard links: copies stay byte copies
        log.info("no spare warehouse kept (%s)", error)
        spare.unlink(missing_ok=True)
        return
    os.replace(linking(published), spare)


def first(published: Path, copy) -> None:
    """After a first build (no file was replaced): `copy(published, linking)` as the spare, so the next build's
    working copy is synced too. Nothing where files are cloned (`copy` returns 'cloned')."""
    if not keeps():
        return
    t0, spare, link = time.perf_counter(), path(published), linking(published)
    try:
        if copy(published, link) == "cloned":
            link.unlink()
            return
    except OSError as error:  # a full disk: the build is published all the same
        link.unlink(missing_ok=True)
        log.warning("no spare warehouse kept: %s", error)
        return
    os.replace(link, spare)
    log.info(
        "kept %s as the next build's working copy (%.1f GB, %.1fs; CHURN_SPARE_WAREHOUSE=0 keeps none)",
        spare,
        spare.stat().st_size / 1e9,
        time.perf_counter() - t0,
    )


def refresh(published: Path, block_size: int) -> None:
    """Bring the spare up to date with the just published file (whose layout block_sync.layout_matches) and stamp
    both. The spare is flushed to disk before it is stamped: the next build trusts it without comparing a block.
    A spare a reader still holds open (it was the published file until now) is left as it was, unstamped."""
    spare, work = path(published), syncing(published)
    if not spare.is_file():
        return
    t0 = time.perf_counter()
    os.replace(spare, work)
    synced = block_sync.sync(published, work, block_size)
    if synced is None:
        os.replace(work, spare)
        return
    _flush(work)
    os.replace(work, spare)
    _write_stamp(published, {"block_size": block_size, "runs": synced.runs})
    log.info(
        "spare %s brought up to date for the next build (%s MB written) in %.1fs",
        spare,
        f"{synced.written / 1e6:,.0f}",
        time.perf_counter() - t0,
    )


def take(published: Path, dst: Path) -> dict | None:
    """Move the spare to `dst` when its stamp holds: both files are as `refresh` left them, so the spare is a copy
    of the published file. Returns what the stamp recorded (for `reads_ahead`), or None (nothing moved)."""
    spare, stamp = path(published), stamp_path(published)
    try:
        recorded = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return None
    stamp.unlink()  # used once: the spare is about to be written
    if not isinstance(recorded, dict) or recorded.keys() != {"block_size", "runs", "files"}:
        return None  # not a stamp this code wrote
    if not spare.is_file() or recorded["files"] != _identity(published) or _in_use(spare):
        return None
    os.replace(spare, dst)
    return recorded


def reads_ahead(published: Path, work: Path, recorded: dict) -> list[tuple[Path, int, int]]:
    """What a build on the taken spare (`work`) will read from disk, as (path, start, end) byte ranges: the blocks
    the last build wrote (its refresh copied them into the spare), which this build mostly reads again, and both
    files' block checksums, which the refresh at this build's end compares (the published file becomes the spare,
    `work` the published one). A night that starts with the warehouse out of the page cache otherwise reads
    them cold: the checksums alone took that refresh 8.1 s at 1M customers, and the spare synced at a build's
    start (before stamps) had the last build's blocks in the page cache as a side effect."""
    block_size = int(recorded["block_size"])
    return (
        [(work, start, end) for start, end in recorded["runs"]]
        + block_sync.checksum_ranges(work, block_size)
        + block_sync.checksum_ranges(published, block_size)
    )


def _identity(published: Path) -> dict[str, list[int]]:
    def stat(p: Path) -> list[int]:
        s = p.stat()
        return [s.st_dev, s.st_ino, s.st_size, s.st_mtime_ns, s.st_ctime_ns]

    return {"published": stat(published), "spare": stat(path(published))}


def _write_stamp(published: Path, facts: dict) -> None:
    stamp, part = stamp_path(published), leftovers(published)[-1]
    part.write_text(json.dumps({**facts, "files": _identity(published)}))
    _flush(part)
    os.replace(part, stamp)


def _flush(file: Path) -> None:
    """Wait until the file's data is on disk (its size included: fdatasync)."""
    fd = os.open(file, os.O_RDWR)
    try:
        os.fdatasync(fd)
    finally:
        os.close(fd)


def _in_use(spare: Path) -> bool:
    """Whether another process holds the file open with DuckDB (its fcntl lock)."""
    with open(spare, "r+b") as f:
        return not block_sync.lock_exclusively(f.fileno())
