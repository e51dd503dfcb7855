"""State-aware builds: a plain `churn build` runs nothing when nothing it reads changed, and runs whenever
anything did (a raw row, a setting, today's date while rows wait in quarantine as future-dated, a text left
untagged by a failing model). Uses a copy of the shared end-to-end build."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import dbt_env

from python_jobs import build, build_state
from python_jobs.dbt_runner import run_dbt


@pytest.fixture
def built(e2e_world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the e2e warehouse and its raw files, recorded as built from them; returns the warehouse."""
    shutil.copytree(e2e_world / "raw", tmp_path / "raw")
    shutil.copyfile(e2e_world / "churn.duckdb", tmp_path / "churn.duckdb")
    for key, value in dbt_env(tmp_path, tmp_path / "raw").items():
        monkeypatch.setenv(key, value)
    db = tmp_path / "churn.duckdb"
    decision, parts = build_state.decide(db, {}, os.environ)
    assert not decision.skip and "no complete build" in decision.why
    build_state.record(db, parts, {})
    return db


def decision(db: Path, vars: dict | None = None) -> build_state.Decision:
    return build_state.decide(db, vars or {}, os.environ)[0]


def test_an_unchanged_build_runs_nothing_and_leaves_the_warehouse_alone(
    built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_dbt(*args: object, **kwargs: object) -> None:
        raise AssertionError("dbt ran although nothing changed")

    monkeypatch.setattr(build, "run_dbt", no_dbt)
    before = built.stat().st_mtime_ns
    assert build.build_warehouse(built) is None
    assert built.stat().st_mtime_ns == before
    assert "is current" in build.built_line(None, built)


def test_raw_files_count_by_content_not_by_timestamp(built: Path) -> None:
    raw = built.parent / "raw"
    orders = raw / "orders.parquet"
    orders.write_bytes(orders.read_bytes())  # same rows, new timestamp
    assert decision(built).skip
    with duckdb.connect() as con:
        con.execute(
            f"copy (select * replace (amount + 0.01 as amount) from '{orders}') to '{raw / 'changed.parquet'}'"
        )
    (raw / "changed.parquet").replace(orders)
    why = decision(built)
    assert not why.skip and "raw files orders.parquet" in why.why
    (raw / "extra.parquet").write_bytes(b"new")
    assert "extra.parquet" in decision(built).why


def test_settings_that_change_results_rebuild_and_others_do_not(
    built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHURN_DUCKDB_MEMORY", "3GB")
    monkeypatch.setenv("CHURN_DUCKDB_THREADS", "1")
    monkeypatch.setenv("CHURN_LLM_CACHE", str(built.parent / "elsewhere.sqlite"))
    assert decision(built).skip
    monkeypatch.setenv("CHURN_TAG_MODEL", "some-other-model")
    assert "CHURN_TAG_MODEL" in decision(built).why
    monkeypatch.delenv("CHURN_TAG_MODEL")
    assert "vars" in decision(built, {"horizon_days": 30}).why


def test_texts_left_untagged_are_retried(built: Path) -> None:
    with duckdb.connect(str(built)) as con:
        schema = con.execute(
            "select table_schema from information_schema.tables where table_name = 'enrichment_runs'"
        ).fetchone()[0]
        con.execute(
            f"""insert into {schema}.enrichment_runs by name
                select 'r' as run_id, 'review_tags' as model_name, now()::timestamp as finished_at,
                       3 as rows_failed, 2 as rows_over_budget"""
        )
    why = decision(built)
    assert not why.skip and "5 text rows untagged" in why.why


def test_today_matters_only_while_rows_wait_as_future_dated(built: Path) -> None:
    with duckdb.connect(str(built), read_only=True) as con:
        waiting = build_state.future_dated_rows(con)
    assert waiting > 0, "the e2e world plants future-dated rows (synth.dirty)"
    parts = json.loads(duckdb.connect(str(built), read_only=True).execute(
        f"select parts from main.{build_state.TABLE}").fetchone()[0])  # fmt: skip
    assert build_state.TODAY in parts
    parts[build_state.TODAY] = "2000-01-01"  # a record written on another day
    with duckdb.connect(str(built)) as con:
        con.execute(f"update main.{build_state.TABLE} set parts = ?", [json.dumps(parts)])
    assert "today" in decision(built).why
    build_state.record(built, parts, {"max_valid_date": "2030-01-01"})  # a fixed date: today not recorded
    assert build_state.TODAY not in build_state.stored(built)[0]


def test_any_dbt_run_that_writes_tables_voids_the_record(built: Path) -> None:
    """A `churn build --select`, or plain dbt with other vars, leaves tables no single set of inputs built."""
    build.build_warehouse(built, extra_args=("--select", "topic_taxonomy"))
    assert build_state.stored(built) is None and not decision(built).skip
    build_state.record(built, build_state.decide(built, {}, os.environ)[1], {})
    run_dbt(["test", "--select", "topic_taxonomy"])  # reads only: the record stays
    assert build_state.stored(built) is not None
    run_dbt(["seed", "--select", "topic_taxonomy"], vars={"horizon_days": 30})
    assert build_state.stored(built) is None


def test_dbt_waits_for_the_working_copy_once_parsed_before_its_first_connection(
    built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[bool] = []
    real_run_dbt = build.run_dbt

    def recording(args: list[str], *, env: dict[str, str], before_connect, **kwargs: object) -> object:
        work = Path(env["CHURN_DUCKDB_PATH"])

        def ready() -> None:
            before_connect()
            calls.append(work.exists())

        return real_run_dbt(args, env=env, before_connect=ready, **kwargs)

    monkeypatch.setattr(build, "run_dbt", recording)
    build.build_warehouse(built, extra_args=("--select", "topic_taxonomy"))
    assert calls == [True]  # called once, from dbt's ConcurrencyLine event, with the copy then in place


def test_the_duckdb_threads_hook_shares_the_cores_among_dbts_threads(
    built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def hook_sql(*args: str) -> list[str]:
        build.build_warehouse(built, extra_args=("--select", "topic_taxonomy", *args))
        run_results = Path(os.environ["DBT_TARGET_PATH"]) / "run_results.json"
        hooks = json.loads(run_results.read_text())["results"]
        return [r["compiled_code"] for r in hooks if (r["compiled_code"] or "").startswith("set threads")]

    cores = duckdb.connect().execute("select current_setting('threads')").fetchone()[0]
    monkeypatch.delenv("CHURN_DUCKDB_THREADS", raising=False)
    profiles = (Path(build.config.REPO_ROOT) / "profiles.yml").read_text()
    assert "threads: 2\n" in profiles.split("postgres:")[0]  # the dev target's dbt threads
    assert hook_sql() == [f"set threads = {max(1, cores // 2)}"]
    assert hook_sql("--threads", "1") == [f"set threads = {cores}"]
    monkeypatch.setenv("CHURN_DUCKDB_THREADS", "3")  # the user's own setting stands
    assert hook_sql() == ["set threads = 3"]
    monkeypatch.setenv("CHURN_DUCKDB_THREADS", "two")
    with pytest.raises(Exception, match="CHURN_DUCKDB_THREADS must be a whole number"):
        build.build_warehouse(built, extra_args=("--select", "topic_taxonomy"))
