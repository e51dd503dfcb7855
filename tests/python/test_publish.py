import os
import threading
from pathlib import Path

import duckdb
import pytest
from duckdb_reader import reader_process

from python_jobs import block_sync, publish, spare_warehouse
from python_jobs.publish import COMPACT_FREE_SHARE, build_and_publish, clone_or_copy, free_share


def _build(value: int):
    def build(db: Path, ready) -> int:
        ready()
        with duckdb.connect(str(db)) as con:
            con.execute("create or replace table t as select ? as v", [value])
        return value

    return build


def _broken(work: Path, ready) -> None:
    _build(99)(work, ready)
    raise RuntimeError("dbt test failed")


def _refuse_clone(*_: object) -> None:
    """fcntl.ioctl as on a filesystem without clones (ext4, tmpfs)."""
    raise OSError(95, "Operation not supported")


def _read(db: Path, ready=lambda: None) -> int:
    ready()
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("select v from t").fetchone()[0]


def test_successful_build_is_published(tmp_path: Path):
    db = tmp_path / "churn.duckdb"
    assert build_and_publish(db, _build(1)) == 1
    assert _read(db) == 1
    build_and_publish(db, _build(2))
    assert _read(db) == 2


def test_failed_build_leaves_last_complete_build_visible(tmp_path: Path):
    db = tmp_path / "churn.duckdb"
    build_and_publish(db, _build(1))

    with pytest.raises(RuntimeError):
        build_and_publish(db, _broken)
    assert _read(db) == 1


def test_working_copy_starts_from_published_state(tmp_path: Path):
    db = tmp_path / "churn.duckdb"
    build_and_publish(db, _build(7))
    assert build_and_publish(db, _read) == 7  # the build reads the working copy


def test_a_mostly_free_file_is_compacted_and_keeps_its_data(tmp_path: Path):
    db = tmp_path / "churn.duckdb"

    def big_then_small(work: Path, ready) -> int:
        ready()
        with duckdb.connect(str(work)) as con:
            con.execute("create or replace table big as select random() as v from range(3000000)")
            con.execute("create or replace table t as select 5 as v, range as w from range(200000)")
            con.execute("checkpoint")
            con.execute("drop table big")  # its blocks sit before t's: freed, not truncated
            con.execute("checkpoint")
        return 5

    build_and_publish(db, big_then_small)
    assert free_share(db) > COMPACT_FREE_SHARE
    before = db.stat().st_size
    build_and_publish(db, lambda work, ready: None)  # a build that never calls ready()
    assert _read(db) == 5
    assert db.stat().st_size < before / 2
    assert free_share(db) < COMPACT_FREE_SHARE


def _storage_version(db: Path) -> str:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(
            "select tags['storage_version'] from duckdb_databases() where not internal"
        ).fetchall()[0][0]


def test_a_compacted_copy_keeps_the_published_files_storage_format(tmp_path: Path):
    db = tmp_path / "churn.duckdb"
    with duckdb.connect() as con:  # a warehouse an older DuckDB release made (readable by 1.5)
        con.execute(f"attach '{db}' as churn (storage_version 'v1.5.0')")
        con.execute("create table churn.big as select random() as v from range(3000000)")
        con.execute("create table churn.t as select 5 as v")
        con.execute("checkpoint churn")
        con.execute("drop table churn.big")
        con.execute("checkpoint churn")
    assert free_share(db) > COMPACT_FREE_SHARE
    build_and_publish(db, lambda work, ready: None)
    assert _read(db) == 5
    assert free_share(db) < COMPACT_FREE_SHARE  # it was compacted, not cloned
    assert _storage_version(db) == "v1.5.0+"


@pytest.fixture
def held_copy(monkeypatch) -> threading.Event:
    """The working copy waits until the returned event is set."""
    release = threading.Event()
    copy = publish.start_working_copy

    def held(published: Path, work: Path) -> str:
        assert release.wait(10)
        return copy(published, work)

    monkeypatch.setattr(publish, "start_working_copy", held)
    return release


def test_the_copy_runs_while_the_build_starts_and_ready_waits_for_it(tmp_path: Path, held_copy):
    db = tmp_path / "churn.duckdb"
    build_and_publish(db, _build(3))
    release = held_copy

    def build(work: Path, ready) -> int:
        assert not work.exists()  # the build started before its copy was in place
        release.set()
        return _read(work, ready)

    assert build_and_publish(db, build) == 3
    assert _read(db) == 3


def test_a_failed_copy_fails_the_build_and_publishes_nothing(tmp_path: Path, monkeypatch):
    db = tmp_path / "churn.duckdb"
    build_and_publish(db, _build(4))

    def broken_copy(published: Path, work: Path) -> None:
        work.write_bytes(b"part of a copy")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(publish, "start_working_copy", broken_copy)
    with pytest.raises(RuntimeError, match="No space left"):
        build_and_publish(db, _build(5))
    with pytest.raises(RuntimeError, match="No space left"):
        build_and_publish(db, lambda work, ready: None)  # not calling ready() does not publish either
    assert _read(db) == 4
    # the partial copy is removed (the spare, if this system keeps one, is left as it was)
    assert sorted(p.name for p in tmp_path.iterdir() if p != spare_warehouse.path(db)) == ["churn.duckdb"]


def test_a_database_opened_before_its_copy_is_never_published(tmp_path: Path, held_copy):
    db = tmp_path / "churn.duckdb"
    build_and_publish(db, _build(6))
    release = held_copy

    def too_early(work: Path, ready) -> int:
        _build(9)(work, lambda: None)  # DuckDB creates a new, empty database there
        release.set()
        return 9

    with pytest.raises(RuntimeError, match="opened before its copy"):
        build_and_publish(db, too_early)
    assert _read(db) == 6


def test_the_working_copy_is_a_clone_or_a_copy_with_the_same_bytes(tmp_path: Path, monkeypatch):
    src = tmp_path / "published.duckdb"
    src.write_bytes(bytes(range(256)) * 4096)
    # this filesystem decides: a clone on Btrfs/XFS, a copy on ext4 or tmpfs; the bytes are the same either way
    assert clone_or_copy(src, tmp_path / "a.duckdb") in {"cloned", "copied"}
    assert (tmp_path / "a.duckdb").read_bytes() == src.read_bytes()
    if publish.fcntl is not None:  # a filesystem that refuses the clone ioctl gets a byte copy
        monkeypatch.setattr(publish.fcntl, "ioctl", _refuse_clone)
    assert clone_or_copy(src, tmp_path / "b.duckdb") == "copied"
    assert (tmp_path / "b.duckdb").read_bytes() == src.read_bytes()


def test_a_disk_without_room_for_the_copy_fails_early_and_leaves_no_partial_file(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("CHURN_SPARE_WAREHOUSE", "0")  # a byte copy (a synced spare needs little room)
    db = tmp_path / "churn.duckdb"
    build_and_publish(db, _build(7))
    if publish.fcntl is not None:  # the byte copy is what needs room (a clone takes none)
        monkeypatch.setattr(publish.fcntl, "ioctl", _refuse_clone)
    usage = publish.shutil.disk_usage(tmp_path)
    monkeypatch.setattr(publish.shutil, "disk_usage", lambda _: usage._replace(free=db.stat().st_size - 1))
    with pytest.raises(
        RuntimeError, match=r"needs .* GB in .*, which has .* GB free.*published warehouse is unchanged"
    ):
        build_and_publish(db, _build(8))
    assert _read(db) == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["churn.duckdb"]


@pytest.fixture
def no_clones(monkeypatch) -> list[str]:
    """A filesystem without clones (ext4); returns how each working copy was made."""
    if not spare_warehouse.keeps():
        pytest.skip("no spare on this system (block_sync needs Linux's system calls)")
    if publish.fcntl is not None:
        monkeypatch.setattr(publish.fcntl, "ioctl", _refuse_clone)
    hows: list[str] = []
    run = publish.BackgroundCopy._run

    def recorded(self: publish.BackgroundCopy, *args: Path) -> None:
        run(self, *args)
        hows.append(self.how)

    monkeypatch.setattr(publish.BackgroundCopy, "_run", recorded)
    return hows


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_the_spare_is_brought_up_to_date_after_each_build_and_is_the_next_working_copy(
    tmp_path: Path, no_clones
):
    db = tmp_path / "churn.duckdb"
    spare, stamp = spare_warehouse.path(db), spare_warehouse.stamp_path(db)
    build_and_publish(db, _build(1))
    assert _read(spare) == 1  # a first build copies what it published (unstamped: nothing flushed it)
    assert _names(tmp_path) == [spare.name, db.name]
    build_and_publish(db, _build(2))
    assert spare.read_bytes() == db.read_bytes()  # the replaced file, brought up to date after publishing
    assert _names(tmp_path) == [spare.name, stamp.name, db.name]
    assert build_and_publish(db, _read) == 2  # the working copy is that spare, taken as it is
    build_and_publish(db, _build(3))
    assert (_read(db), _read(spare)) == (3, 3)
    assert no_clones == ["synced", "kept", "kept"]


def test_reading_the_published_file_keeps_the_stamp_writing_to_either_file_breaks_it(
    tmp_path: Path, no_clones
):
    db = tmp_path / "churn.duckdb"
    for value in (1, 2):
        build_and_publish(db, _build(value))
    assert _read(db) == 2  # the report and dashboards read it read-only
    build_and_publish(db, _build(3))
    with duckdb.connect(str(db)) as con:  # an analyst writes to the published file
        con.execute("create table notes as select 'keep me' as note")
    assert build_and_publish(db, lambda work, ready: _read(work, ready)) == 3
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select note from notes").fetchall() == [("keep me",)]  # the copy was synced
    with duckdb.connect(str(spare_warehouse.path(db))) as con:  # someone writes to the spare
        con.execute("create table stray as select 1 as x")
    build_and_publish(db, _build(4))
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from duckdb_tables() where table_name = 'stray'").fetchall() == [
            (0,)
        ]
    assert no_clones == ["synced", "kept", "synced", "synced"]


def test_a_spare_a_reader_holds_open_is_not_written(tmp_path: Path, no_clones):
    db = tmp_path / "churn.duckdb"
    spare = spare_warehouse.path(db)
    build_and_publish(db, _build(1))
    # a dashboard that opened the warehouse before build 2 replaced it
    with reader_process(db, "select v from t") as value:
        assert value == "1"
        build_and_publish(db, _build(2))
        assert _read(spare) == 1  # the dashboard's file, not brought up to date
        assert not spare_warehouse.stamp_path(db).exists()
        build_and_publish(db, _build(3))
        assert no_clones == ["synced", "copied"]
        assert (_read(db), _read(spare)) == (3, 3)  # a new spare; the reader's file was unlinked, not written


def test_a_stamped_spare_someone_opened_is_not_taken(tmp_path: Path, no_clones):
    db = tmp_path / "churn.duckdb"
    for value in (1, 2):
        build_and_publish(db, _build(value))
    with reader_process(spare_warehouse.path(db), "select v from t") as value:
        assert value == "2"
        build_and_publish(db, _build(3))
    assert _read(db) == 3
    assert no_clones == ["synced", "copied"]


def test_no_spare_is_kept_when_turned_off(tmp_path: Path, no_clones, monkeypatch):
    db = tmp_path / "churn.duckdb"
    for value in (1, 2):
        build_and_publish(db, _build(value))
    assert spare_warehouse.path(db).exists()
    monkeypatch.setenv("CHURN_SPARE_WAREHOUSE", "0")
    build_and_publish(db, _build(3))
    assert _read(db) == 3
    assert no_clones == ["synced", "kept"]  # the up-to-date spare is used once more, then none is kept
    assert _names(tmp_path) == [db.name]


def test_a_spare_update_cut_short_publishes_the_build_and_leaves_no_spare(
    tmp_path: Path, no_clones, monkeypatch
):
    db = tmp_path / "churn.duckdb"
    build_and_publish(db, _build(1))
    sync = block_sync.sync

    def full_disk_after_publishing(src: Path, spare: Path, block_size: int) -> int:
        if spare.name.endswith(".syncing"):
            with open(spare, "r+b") as f:
                f.seek(block_sync.HEADERS)
                f.write(b"torn")
            raise OSError(28, "No space left on device")
        return sync(src, spare, block_size)

    monkeypatch.setattr(publish.block_sync, "sync", full_disk_after_publishing)
    build_and_publish(db, _build(2))
    assert _read(db) == 2
    assert _names(tmp_path) == [db.name]  # neither a spare nor its torn copy
    monkeypatch.setattr(publish.block_sync, "sync", sync)
    build_and_publish(db, _build(3))
    assert _read(db) == 3
    assert no_clones == ["synced", "copied"]


def test_a_spare_that_is_the_published_file_itself_is_never_built_in(tmp_path: Path, no_clones):
    # a second name of the published file (a publish that failed between its link and its rename): building in
    # it would write the file readers see
    db = tmp_path / "churn.duckdb"
    build_and_publish(db, _build(1))
    spare = spare_warehouse.path(db)
    spare.unlink()
    os.link(db, spare)

    with pytest.raises(RuntimeError):
        build_and_publish(db, _broken)
    assert _read(db) == 1
    assert no_clones == ["copied"]


def test_a_sync_cut_short_leaves_no_spare_to_sync_from_again(tmp_path: Path, no_clones, monkeypatch):
    # a block half written by a sync that died must never be read as a spare's block: the sync writes under the
    # working copy's name, which the next build removes
    db = tmp_path / "churn.duckdb"
    build_and_publish(db, _build(1))

    def cut_short(src: Path, spare: Path, block_size: int) -> int:
        with open(spare, "r+b") as f:
            f.seek(block_sync.HEADERS)
            f.write(b"torn")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(publish.block_sync, "sync", cut_short)
    with pytest.raises(RuntimeError, match="No space left"):
        build_and_publish(db, _build(2))
    assert sorted(p.name for p in tmp_path.iterdir()) == [db.name]
    assert _read(db) == 1


def test_the_build_starts_while_the_taken_spare_is_read_ahead(tmp_path: Path, no_clones, monkeypatch):
    db = tmp_path / "churn.duckdb"
    for value in (1, 2):
        build_and_publish(db, _build(value))
    release, read = threading.Event(), []
    read_into_cache = block_sync.read_into_cache

    def slow(fds, ranges):
        assert release.wait(10)
        read.append(sorted({p.name for p, _, _ in ranges}))
        return read_into_cache(fds, ranges)

    monkeypatch.setattr(publish.block_sync, "read_into_cache", slow)

    def build(work: Path, ready) -> int:
        value = _read(work, ready)  # the copy is in place before its reading ahead ends
        release.set()
        return value

    assert build_and_publish(db, build) == 2
    assert read == [sorted([db.name, publish.working_path(db).name])]
    assert no_clones == ["synced", "kept"]


@pytest.mark.parametrize("stamp", ["[]", "{}", '{"files": {}}', "not json"])
def test_a_stamp_this_code_did_not_write_is_not_trusted(tmp_path: Path, no_clones, stamp: str):
    db = tmp_path / "churn.duckdb"
    for value in (1, 2):
        build_and_publish(db, _build(value))
    spare_warehouse.stamp_path(db).write_text(stamp)
    assert build_and_publish(db, _read) == 2
    assert no_clones == ["synced", "synced"]
