"""Incremental enrichment: a second build re-enriches nothing, an edited review only that one, deletions vanish."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from conftest import ENRICHMENT_SELECT, dbt_env

from python_jobs.dbt_runner import run_dbt
from python_jobs.text.incremental import chunks, rows_to_enrich

PROJECT_DIR = Path(__file__).resolve().parents[2]
TABLES = {"review_tags": "review_id", "ticket_tags": "ticket_id", "review_embeddings": "review_id"}
SELECT = ENRICHMENT_SELECT


def _state(db: Path) -> dict[str, dict[str, tuple]]:
    """Per enrichment table: key -> (enriched_at, content_hash, source_hash)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            table: {
                row[0]: row[1:]
                for row in con.execute(
                    f"select {key}, enriched_at, content_hash, source_hash from enrichment.{table}"
                ).fetchall()
            }
            for table, key in TABLES.items()
        }
    finally:
        con.close()


def _rewritten(before: dict[str, tuple], after: dict[str, tuple]) -> set[str]:
    return {k for k, v in after.items() if k not in before or before[k][0] != v[0]}


def test_second_build_enriches_nothing_and_follows_edits_and_deletes(tmp_path: Path) -> None:
    from python_jobs.synth import generate_world

    raw = tmp_path / "raw"
    generate_world(800, 3, raw, progress=False)
    env = dbt_env(tmp_path, raw)
    db = tmp_path / "churn.duckdb"

    run_dbt(["build", *SELECT], project_dir=PROJECT_DIR, env=env)
    first = _state(db)
    assert all(first.values()), {t: len(rows) for t, rows in first.items()}

    run_dbt(["build", *SELECT], project_dir=PROJECT_DIR, env=env)
    second = _state(db)
    for table in TABLES:  # nothing re-tagged or re-embedded, nothing lost
        assert second[table] == first[table], table

    # The weak sentiment model learns only from reviews before the evaluation snapshot: editing a later review
    # re-tags that review alone; deleting an earlier rated one refits the model (below).
    with duckdb.connect(str(db), read_only=True) as con:
        cutoff = con.execute("select fitted_on_until from enrichment.weak_sentiment_model").fetchone()[0]
        edited, deleted = con.execute(
            """
            select min(case when created_at >= ? then review_id end),
                   min(case when created_at < ? and rating is not null then review_id end)
            from marts.fct_reviews
            """,
            [cutoff, cutoff],
        ).fetchone()
    reviews = pq.read_table(raw / "reviews.parquet")
    ids = reviews["review_id"]
    new_body = pa.scalar("Arrived broken. I will cancel and shop elsewhere.")
    body = pc.if_else(pc.equal(ids, edited), new_body, reviews["body"])
    pq.write_table(
        reviews.set_column(reviews.schema.get_field_index("body"), "body", body), raw / "reviews.parquet"
    )

    run_dbt(["build", *SELECT], project_dir=PROJECT_DIR, env=env)
    third = _state(db)
    for table in ("review_tags", "review_embeddings"):
        assert _rewritten(second[table], third[table]) == {edited}, table
        assert third[table][edited][1] != second[table][edited][1], table  # new text, new cache key
    assert third["ticket_tags"] == second["ticket_tags"]

    con = duckdb.connect(str(db), read_only=True)
    version_before = con.execute("select any_value(tag_version) from enrichment.review_tags").fetchone()[0]
    con.close()
    reviews = pq.read_table(raw / "reviews.parquet")
    pq.write_table(reviews.filter(pc.not_equal(reviews["review_id"], deleted)), raw / "reviews.parquet")

    run_dbt(["build", *SELECT], project_dir=PROJECT_DIR, env=env)
    fourth = _state(db)
    for table in ("review_tags", "review_embeddings"):
        assert set(fourth[table]) == set(third[table]) - {deleted}, table
    assert fourth["review_embeddings"] == {
        k: v for k, v in third["review_embeddings"].items() if k != deleted
    }
    # One rated review fewer before the cutoff refits the weak sentiment model: its version is part of
    # tag_version, so every review is re-tagged with the new blend and the table never mixes two blends.
    con = duckdb.connect(str(db), read_only=True)
    try:
        versions = con.execute("select distinct tag_version from enrichment.review_tags").fetchall()
    finally:
        con.close()
    assert len(versions) == 1 and "weak-v1" in versions[0][0], versions
    assert version_before != versions[0][0]  # refitted on one review fewer, so all re-tagged:
    assert _rewritten(third["review_tags"], fourth["review_tags"]) == set(fourth["review_tags"])


def test_rows_to_enrich_compares_hashes_set_based() -> None:
    con = duckdb.connect()
    con.execute("create table src as select * from (values ('a', 'x'), ('b', 'y'), ('c', 'z')) t(id, body)")
    src = con.sql("select * from src")
    first = rows_to_enrich(src, "id", ["id", "body"], "m1", "v1").to_arrow_table()
    assert first.num_rows == 3 and first["source_hash"].null_count == 0
    con.register("first_arrow", first.append_column("tag_status", pa.array(["tagged", "tagged", "failed"])))
    con.execute("create table this as select * from first_arrow")

    def todo(model: str = "m1", version: str = "v1", retry: bool = True) -> list[str]:
        out = rows_to_enrich(
            con.sql("select * from src"), "id", ["id", "body"], model, version, "this", retry
        ).to_arrow_table()
        return sorted(out["id"].to_pylist())

    assert todo(retry=False) == []
    assert todo() == ["c"]  # not tagged last time: retried
    con.execute("update src set body = 'changed' where id = 'a'")
    con.execute("insert into src values ('d', 'new')")
    assert todo(retry=False) == ["a", "d"]
    assert todo(model="m2", retry=False) == ["a", "b", "c", "d"]  # model switched: everything
    assert todo(version="v2", retry=False) == ["a", "b", "c", "d"]  # schema / weak model version changed
    con.execute("alter table this drop column source_hash")  # built before this column existed
    assert todo(retry=False) == ["a", "b", "c", "d"]


def test_chunks_count_and_read_the_rows_a_chunk_at_a_time() -> None:
    con = duckdb.connect()
    rel = con.sql("select range as id, 'text ' || range as body from range(10)")
    for size, sizes in ((4, [4, 4, 2]), (20, [10])):
        total, tables = chunks(rel, size)
        parts = list(tables)
        assert total == 10 and [t.num_rows for t in parts] == sizes
        assert sorted(pa.concat_tables(parts)["id"].to_pylist()) == list(range(10))
    total, tables = chunks(rel.filter("id < 0"), 4)
    (empty,) = list(tables)
    assert total == 0 and empty.num_rows == 0 and empty.column_names == ["id", "body"]
