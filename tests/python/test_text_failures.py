"""A failing LLM never destroys good work: dbt builds against a fake OpenAI-compatible server (healthy, then
answering 500, then healthy again) keep every earlier tag, warn, and record the tally in enrichment_runs."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from conftest import ENRICHMENT_SELECT, dbt_env
from text_fakes import FakeOpenAI, FakeTagModel, answer, registered

from python_jobs.dbt_runner import DbtError, run_dbt
from python_jobs.text.enrich import tag_reviews, tag_settings
from python_jobs.text.runs import RunLog

PROJECT_DIR = Path(__file__).resolve().parents[2]
SELECT = ENRICHMENT_SELECT


def _query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _tags(db: Path) -> dict[str, tuple]:
    rows = _query(
        db, "select review_id, tag_model, sentiment, topics, enriched_at from enrichment.review_tags"
    )
    return {r[0]: r[1:] for r in rows}


def _latest_runs(db: Path) -> dict[str, dict]:
    cols = [
        "model_name",
        "llm_model",
        "rows_considered",
        "rows_ok",
        "rows_failed",
        "texts_failed",
        "rows_kept_previous",
        "rows_without_result",
        "requests",
    ]
    rows = _query(
        db,
        f"select {', '.join(cols)} from enrichment.enrichment_runs"
        " qualify row_number() over (partition by model_name order by finished_at desc) = 1",
    )
    return {r[0]: dict(zip(cols, r, strict=True)) for r in rows}


def _test_status(results) -> dict[str, str]:
    """Status of the enrichment_failure_share test of each enrichment model."""
    return {r.node.name: str(r.status) for r in results if r.node.name.startswith("enrichment_failure_share")}


def test_failing_llm_keeps_earlier_tags_warns_and_records_the_tally(tmp_path: Path) -> None:
    from python_jobs.synth import generate_world

    raw = tmp_path / "raw"
    generate_world(300, 5, raw, progress=False)
    db = tmp_path / "churn.duckdb"
    with FakeOpenAI() as server:
        user = Path(os.environ["LLM_USER_PATH"])
        server.register(user, "fake-a")
        # a second id on the same server: switching to it re-tags every row (the model id is in source_hash)
        (user / "extra-openai-models.yaml").write_text(
            "".join(
                f"- model_id: {m}\n  model_name: fake-model\n  api_base: {server.api_base}\n"
                "  supports_schema: true\n"
                for m in ("fake-a", "fake-b", "fake-c")
            )
        )
        fast = {"CHURN_TAG_BACKOFF_S": "0.01", "CHURN_TAG_MAX_RETRIES": "1"}

        results = run_dbt(
            ["build", *SELECT],
            project_dir=PROJECT_DIR,
            env=dbt_env(tmp_path, raw, CHURN_TAG_MODEL="fake-a", **fast),
        )
        first = _tags(db)
        assert first and {v[0] for v in first.values()} == {"fake-a"}
        assert all(v[1] is not None for v in first.values())
        assert set(_test_status(results).values()) == {"pass"}

        server.fail_all = "500"
        before = len(server.requests)
        results = run_dbt(
            ["build", *SELECT],
            project_dir=PROJECT_DIR,
            env=dbt_env(tmp_path, raw, CHURN_TAG_MODEL="fake-b", **fast),
        )
        assert _tags(db) == first  # every earlier tag kept, untouched
        runs = _latest_runs(db)
        tags_run = runs["review_tags"]
        assert tags_run["llm_model"] == "fake-b" and tags_run["rows_considered"] == len(first)
        assert tags_run["rows_failed"] == len(first) == tags_run["rows_kept_previous"]
        assert tags_run["rows_ok"] == 0 and tags_run["rows_without_result"] == 0
        assert (
            runs["review_tags"]["requests"] + runs["ticket_tags"]["requests"] == len(server.requests) - before
        )
        status = _test_status(results)  # tags of both kinds failed (kept): warn; embeddings (local) fine
        assert sorted(status.values()) == ["pass", "warn", "warn"], status
        log = (tmp_path / "logs" / "dbt.log").read_text()
        assert "enrichment adapter: review_tags (fake-b):" in log and "kept their previous result" in log

        server.fail_all = None
        results = run_dbt(
            ["build", *SELECT],
            project_dir=PROJECT_DIR,
            env=dbt_env(tmp_path, raw, CHURN_TAG_MODEL="fake-b", **fast),
        )
        third = _tags(db)
        assert set(third) == set(first) and {v[0] for v in third.values()} == {"fake-b"}
        assert _latest_runs(db)["review_tags"]["rows_ok"] == len(first)
        assert set(_test_status(results).values()) == {"pass"}
        builds = _query(db, "select count(distinct invocation_id), count(*) from enrichment.enrichment_runs")
        assert builds == [(3, 9)]

        # nothing earlier to keep (a full refresh with a model never cached) and the model is down: most rows
        # have no tags at all, so the test fails the build (the churn models are not retrained without text)
        server.fail_all = "500"
        env = dbt_env(tmp_path, raw, CHURN_TAG_MODEL="fake-c", **fast)
        with pytest.raises(DbtError, match="enrichment_failure_share_review_tags"):
            run_dbt(["build", "--select", "review_tags", "--full-refresh"], project_dir=PROJECT_DIR, env=env)
        assert _latest_runs(db)["review_tags"]["rows_without_result"] == len(first)


def test_failed_rows_keep_earlier_tags_and_the_first_build_says_why(tmp_path: Path) -> None:
    """Unit level (no dbt): the rows the model returns for delete+insert, build after build."""
    reviews = pa.table(
        {
            "review_id": [f"r{i}" for i in range(6)],
            "customer_id": ["c1"] * 6,
            "created_at": pa.array([0] * 6, pa.timestamp("us")),
            "rating": [1, 5, 3, 1, 5, 3],
            "title": ["Late", "Great", "Fine", "Broken", "Love it", "Ok"],
            "body": [f"order {i}: details" for i in range(6)],
        }
    )
    get = {
        "tag_model": "fake-tagger",
        "llm_cache_path": str(tmp_path / "c.sqlite"),
        "weak_sentiment": "false",
    }.get
    settings = tag_settings(get, show_progress=False, backoff_s=0.0, max_retries=0, texts_per_request=2)
    runs = duckdb.connect()
    prev = f"prev_tags_{tmp_path.name}".replace("-", "_")

    def build(this: str | None) -> pa.Table:
        out = tag_reviews(reviews, settings, this=this, run=RunLog(runs, "review_tags"))
        if this is None:
            duckdb.execute(f"create or replace table {prev} as select * from out")
        else:  # delete+insert on review_id, as dbt does
            duckdb.execute(f"delete from {prev} where review_id in (select review_id from out)")
            duckdb.execute(f"insert into {prev} select * from out")
        return out

    def down(prompt: str) -> str:
        raise ConnectionError("model down")

    with registered(FakeTagModel()) as fake:
        fake.default = down
        first = build(None)  # first build, nothing to keep: every row present, saying why it has no tags
        assert first.num_rows == 6 and set(first["tag_status"].to_pylist()) == {"failed"}
        assert first["status_reason"][0].as_py().startswith("ConnectionError: model down")

        fake.default = answer
        second = build(prev)  # the untagged rows are retried
        assert second.num_rows == 6 and set(second["tag_status"].to_pylist()) == {"tagged"}
        good = duckdb.execute(f"select review_id, sentiment, topics from {prev} order by 1").fetchall()

        fake.default = down
        reviews = reviews.set_column(5, "body", pa.array([f"order {i}: edited" for i in range(6)]))
        third = build(prev)  # every text changed, every call fails: nothing returned, nothing lost
        assert third.num_rows == 0
        assert (
            duckdb.execute(f"select review_id, sentiment, topics from {prev} order by 1").fetchall() == good
        )

    cols = "rows_considered, rows_failed, rows_kept_previous, rows_without_result, rows_ok, model_name"
    assert runs.execute(f"select {cols} from enrichment_runs order by finished_at").fetchall() == [
        (6, 6, 0, 6, 0, "review_tags"),
        (6, 0, 0, 0, 6, "review_tags"),
        (6, 6, 6, 0, 0, "review_tags"),
    ]
