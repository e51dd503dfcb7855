"""memory_limit_lowered: DuckDB's cache is evicted for a Python step and the session's limit given back after."""

from __future__ import annotations

import duckdb
import pytest

from python_jobs.warehouse import memory_limit_lowered, only_row, size_bytes


def _limit(con: duckdb.DuckDBPyConnection) -> float:
    return size_bytes(only_row(con.sql("select current_setting('memory_limit')"))[0])


def _cached(con: duckdb.DuckDBPyConnection) -> float:
    return only_row(con.sql("select sum(memory_usage_bytes) from duckdb_memory()"))[0]


def test_size_bytes_reads_what_duckdb_takes_and_shows() -> None:
    assert size_bytes("1GB") == 1e9
    assert size_bytes("4.6 GiB") == pytest.approx(4.6 * 2**30)
    assert size_bytes("512mb") == 512e6
    with pytest.raises(ValueError, match="not a DuckDB memory size: '80%'"):
        size_bytes("80%")


def test_cache_is_evicted_in_the_block_and_the_limit_given_back(tmp_path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"), config={"memory_limit": "2GB"})
    con.execute("create table t as select hash(range) as i, hash(range + 1) as j from range(10000000)")
    con.execute("checkpoint")
    only_row(con.sql("select sum(i), sum(j) from t"))  # fills the cache with t's blocks
    before, cached = only_row(con.sql("select current_setting('memory_limit')")), _cached(con)
    assert cached > 100e6
    with memory_limit_lowered(con, "64MB", "2GB") as give_back_freed:
        assert _limit(con) == pytest.approx(64e6, rel=0.05)
        assert _cached(con) < 64e6
        only_row(con.sql("select sum(i) from t"))
        give_back_freed()  # flushes DuckDB's allocators; the limit stays lowered
        assert _limit(con) == pytest.approx(64e6, rel=0.05)
    assert only_row(con.sql("select current_setting('memory_limit')")) == before
    with pytest.raises(RuntimeError), memory_limit_lowered(con, "64MB", "2GB"):
        raise RuntimeError("the fit failed")
    assert only_row(con.sql("select current_setting('memory_limit')")) == before  # set back on failure too


def test_a_session_opened_without_a_limit_gets_duckdbs_default_back() -> None:
    con = duckdb.connect()
    before = only_row(con.sql("select current_setting('memory_limit')"))
    with memory_limit_lowered(con, "64MB", None):
        assert _limit(con) == pytest.approx(64e6, rel=0.05)
    assert only_row(con.sql("select current_setting('memory_limit')")) == before


@pytest.mark.parametrize("limit", [None, "", "3GB"])
def test_no_limit_or_a_higher_one_changes_nothing(limit) -> None:
    con = duckdb.connect(config={"memory_limit": "2GB"})
    before = _limit(con)
    with memory_limit_lowered(con, limit, "2GB") as give_back_freed:
        give_back_freed()
        assert _limit(con) == before
    with memory_limit_lowered(None, limit, "2GB"):
        pass
