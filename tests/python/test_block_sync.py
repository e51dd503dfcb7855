"""A spare DuckDB file brought up to date block by block (python_jobs/block_sync.py) equals a copy, byte for byte."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from duckdb_reader import reader_process

from python_jobs import block_sync
from python_jobs.publish import database_size

pytestmark = pytest.mark.skipif(not block_sync.supported(), reason="block sync needs Linux's system calls")


def _write(db: Path, sql: str) -> None:
    with duckdb.connect(str(db)) as con:
        con.execute(sql)


def _sync(src: Path, spare: Path) -> int | None:
    size = database_size(src)
    assert block_sync.layout_matches(src, size["block_size"], size["total_blocks"], size["encrypted"])
    synced = block_sync.sync(src, spare, size["block_size"])
    return None if synced is None else synced.written


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "churn.duckdb"
    _write(path, "create table a as select range as id, md5(range::varchar) as v from range(300000)")
    _write(path, "create table b as select range as id from range(200000)")
    return path


def test_a_spare_of_the_last_version_takes_only_the_changed_blocks(db: Path, tmp_path: Path) -> None:
    spare = tmp_path / "spare.duckdb"
    shutil.copyfile(db, spare)
    _write(db, "create or replace table b as select range * 2 as id from range(200000)")
    written = _sync(db, spare)
    assert spare.read_bytes() == db.read_bytes()
    assert 0 < written < db.stat().st_size / 2  # table a's blocks were kept
    with duckdb.connect(str(spare), read_only=True) as con:
        assert con.execute("select sum(id) from b").fetchone()[0] == 2 * sum(range(200000))


@pytest.mark.parametrize("spare_bytes", [b"", b"x" * 5_000_000, b"DUCK" * 10])
def test_any_spare_ends_equal_to_the_file(db: Path, tmp_path: Path, spare_bytes: bytes) -> None:
    # an empty, a longer or an unrelated spare: whatever differs is copied, whatever is longer is cut
    spare = tmp_path / "spare.duckdb"
    spare.write_bytes(spare_bytes)
    assert _sync(db, spare) == db.stat().st_size
    assert spare.read_bytes() == db.read_bytes()


def test_scattered_differing_blocks_are_each_copied_once(db: Path, tmp_path: Path) -> None:
    # every third block of the spare differs (its checksum bytes): many runs, spread over the reading threads
    spare = tmp_path / "spare.duckdb"
    shutil.copyfile(db, spare)
    block_size = database_size(db)["block_size"]
    offsets = range(block_sync.HEADERS, db.stat().st_size, block_size)
    damaged = offsets[::3]
    with open(spare, "r+b") as f:
        for offset in damaged:
            f.seek(offset)
            f.write(b"\xff" * block_sync.CHECKSUM)
    assert len(damaged) >= 3  # separate runs
    assert _sync(db, spare) == block_sync.HEADERS + sum(
        min(block_size, db.stat().st_size - offset) for offset in damaged
    )
    assert spare.read_bytes() == db.read_bytes()


def test_a_shorter_file_cuts_the_spare(db: Path, tmp_path: Path) -> None:
    spare = tmp_path / "spare.duckdb"
    bigger = tmp_path / "bigger.duckdb"
    shutil.copyfile(db, bigger)
    _write(bigger, "create table c as select range as id, md5(range::varchar) as v from range(500000)")
    shutil.copyfile(bigger, spare)
    _sync(db, spare)
    assert spare.read_bytes() == db.read_bytes()


def test_a_spare_open_in_another_duckdb_process_is_left_alone(db: Path, tmp_path: Path) -> None:
    spare = tmp_path / "spare.duckdb"
    shutil.copyfile(db, spare)
    _write(db, "create or replace table b as select 1 as id")
    before = spare.read_bytes()
    with reader_process(spare) as opened:
        assert opened == "1"
        assert _sync(db, spare) is None
    assert spare.read_bytes() == before


def test_files_not_laid_out_as_expected_are_not_synced(db: Path, tmp_path: Path) -> None:
    size = database_size(db)
    assert not block_sync.layout_matches(db, size["block_size"], 0, False)  # blocks DuckDB does not know
    assert not block_sync.layout_matches(db, size["block_size"] // 2 + 1, size["total_blocks"], False)
    assert not block_sync.layout_matches(db, size["block_size"], size["total_blocks"], True)  # encrypted
    other = tmp_path / "other.duckdb"
    other.write_bytes(b"\0" * db.stat().st_size)
    assert not block_sync.layout_matches(other, size["block_size"], size["total_blocks"], False)


def test_a_file_in_the_older_storage_format_syncs_too(tmp_path: Path) -> None:
    # CHURN_DUCKDB_STORAGE=v1.5.0 keeps a warehouse readable by DuckDB before 2.0: the same block layout
    db, spare = tmp_path / "old.duckdb", tmp_path / "spare.duckdb"
    with duckdb.connect() as con:
        con.execute(f"attach '{db}' as w (storage_version 'v1.5.0')")
        con.execute("create table w.a as select range as id, md5(range::varchar) as v from range(300000)")
    shutil.copyfile(db, spare)
    _write(db, "create table c as select range as id from range(100000)")
    assert _sync(db, spare) < db.stat().st_size
    assert spare.read_bytes() == db.read_bytes()


def test_read_into_cache_reads_each_range_once_in_pieces(tmp_path: Path, monkeypatch) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"a" * (3 * block_sync.READ_PIECE))
    b.write_bytes(b"b" * 100_000)
    reads: list[tuple[int, int, int]] = []
    pread = block_sync.os.pread

    def recorded(fd: int, n: int, offset: int) -> bytes:
        reads.append((block_sync.os.fstat(fd).st_size, offset, n))
        return pread(fd, n, offset)

    monkeypatch.setattr(block_sync.os, "pread", recorded)
    piece = block_sync.READ_PIECE
    ranges = [(a, 10, 2 * piece + 20), (b, 0, 8), (b, 4096, 4104)]
    opened, os_open = [], block_sync.os.open
    monkeypatch.setattr(
        block_sync.os, "open", lambda path, *args: opened.append(path) or os_open(path, *args)
    )
    with block_sync.opened(path for path, _, _ in ranges) as fds:
        assert block_sync.read_into_cache(fds, ranges) == 2 * piece + 10 + 16
    assert opened == [a, b]  # each file once, however many of its ranges (a build reads ~100,000)
    assert sorted(reads) == sorted(
        [
            (3 * piece, 10, piece),
            (3 * piece, piece + 10, piece),
            (3 * piece, 2 * piece + 10, 10),
            (100_000, 0, 8),
            (100_000, 4096, 8),
        ]
    )
