"""The enrichment entry points the dbt Python models call (review_tags, ticket_tags, review_embeddings)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from python_jobs.text.enrich import embed_reviews, embed_settings, tag_reviews, tag_settings, tag_tickets
from python_jobs.text.weak_registry import fit_registry


def reviews_frame(n: int = 400) -> pd.DataFrame:
    good = ["Love it, great quality", "Fast delivery, very happy", "Perfect fit"]
    bad = ["Arrived broken, terrible", "Late and the box was crushed", "Refund never came"]
    mid = ["It is fine", "Ok for the price", "Average"]
    rows = []
    for i in range(n):
        bank, stars = [(good, 5), (bad, 1), (mid, 3)][i % 3]
        rows.append(
            {
                "review_id": f"r{i}",
                "customer_id": f"c{i % 50}",
                "order_id": None,
                "created_at": pd.Timestamp("2024-01-01") + pd.Timedelta(days=i),
                "rating": stars,
                "title": bank[i % 3],
                "body": f"order {i}, mail me at x{i}@example.com",
                "language": "en",
            }
        )
    return pd.DataFrame(rows)


def test_review_and_ticket_tags_keep_keys_and_add_tags(tmp_path):
    get = {
        "tag_model": "churn-local-tagger",
        "llm_cache_path": str(tmp_path / "c.sqlite"),
        "max_texts": "0",
    }.get
    reviews = reviews_frame()
    spine = pd.DataFrame({"snapshot_date": [pd.Timestamp("2026-01-01")], "split": ["test"]})
    weak = fit_registry(pa.Table.from_pandas(reviews), spine, tmp_path, "churn-local-tagger", "true", 0)
    assert weak["status"].to_pylist() == ["fitted"] and weak["n_rated"].to_pylist() == [len(reviews)]
    out = tag_reviews(pa.Table.from_pandas(reviews), tag_settings(get, show_progress=False), weak=weak)
    assert out.num_rows == len(reviews)
    assert out.column_names[:6] == [
        "review_id",
        "customer_id",
        "order_id",
        "created_at",
        "rating",
        "language_hint",
    ]
    assert set(out.column("tag_status").to_pylist()) == {"tagged"}
    assert "weak-v1" in out.column("tag_version")[0].as_py()  # enough star ratings: blended
    labels = out.column("sentiment_label").to_pylist()
    assert labels[0] == "positive" and labels[1] == "negative"
    tickets = pd.DataFrame(
        {
            "ticket_id": ["t1"],
            "customer_id": ["c1"],
            "order_id": [None],
            "created_at": [pd.Timestamp("2024-02-01")],
            "channel": ["email"],
            "subject": ["Parcel lost"],
            "body": ["Still waiting, cancel my account"],
            "language": [None],
        }
    )
    t = tag_tickets(tickets, tag_settings(get, show_progress=False)).to_pylist()[0]
    assert t["ticket_id"] == "t1" and t["churn_intent"] is True and "weak" not in t["tag_version"]


def test_tags_read_and_tagged_in_chunks_equal_one_chunk(tmp_path, monkeypatch):
    """tag_reviews reads the rows to tag a chunk at a time (a million reviews' texts are never held at once):
    chunks of 64 rows give the table of one chunk, each on a fresh cache, so every text is tagged."""
    from python_jobs.text import incremental
    from python_jobs.text.runner import TagRun

    def tagged(name: str) -> pa.Table:
        get = {"tag_model": "churn-local-tagger", "llm_cache_path": str(tmp_path / f"{name}.sqlite")}.get
        return tag_reviews(reviews_frame(), tag_settings(get, show_progress=False)).drop(["enriched_at"])

    whole = tagged("whole")
    chunk_rows = []
    tag = TagRun.tag
    monkeypatch.setattr(
        TagRun, "tag", lambda run, ids, texts: chunk_rows.append(len(ids)) or tag(run, ids, texts)
    )
    monkeypatch.setattr(incremental, "CHUNK_ROWS", 64)
    assert tagged("chunks").equals(whole)
    assert chunk_rows == [64] * 6 + [16]


def test_embeddings_read_and_embedded_in_chunks_equal_one_chunk(tmp_path, monkeypatch):
    """embed_reviews reads the rows to embed a chunk at a time: chunks of 64 rows give the rows and counts of
    one chunk (fresh caches: every text embedded; texts repeated across chunks embedded once)."""
    from python_jobs.text import incremental
    from python_jobs.text.runs import RunLog

    tallies = []  # without requests: a chunk's texts go in requests of their own
    monkeypatch.setattr(
        RunLog, "finish", lambda self, tally, *a: tallies.append(tally.as_dict() | {"requests": 0})
    )

    def embedded(name: str) -> pa.Table:
        get = {"embedding_model": "churn-local-embed", "llm_cache_path": str(tmp_path / f"{name}.sqlite")}.get
        reviews = pd.concat(
            [reviews_frame(200), reviews_frame(200).assign(review_id=lambda f: "again-" + f.review_id)]
        )
        out = embed_reviews(reviews, embed_settings(get, show_progress=False), run=RunLog.__new__(RunLog))
        return out.read_all().drop(["enriched_at"])

    whole = embedded("whole")
    monkeypatch.setattr(incremental, "CHUNK_ROWS", 64)
    assert embedded("chunks").equals(whole)
    assert tallies[1] == tallies[0] and tallies[0]["unique"] == 200 and tallies[0]["sent"] == 200


def test_review_embeddings_are_fixed_size_and_keyed(tmp_path):
    get = {"embedding_model": "churn-local-embed", "llm_cache_path": str(tmp_path / "c.sqlite")}.get
    out = embed_reviews(reviews_frame(10), embed_settings(get, show_progress=False)).read_all()
    assert out.column_names == [
        "review_id",
        "customer_id",
        "created_at",
        "content_hash",
        "embedding_model",
        "embedding",
        "source_hash",
        "enriched_at",
    ]
    assert out.schema.field("embedding").type == pa.list_(pa.float32(), 256)
    assert out.column("review_id").to_pylist() == [f"r{i}" for i in range(10)]


def test_review_embeddings_stream_in_batches_with_the_same_rows(tmp_path, monkeypatch):
    """embed_reviews returns a reader (dbt-duckdb writes its batches as they come, so 1.3 GB of embeddings at
    1M customers are never held twice): batches of 3 rows give the rows of one batch, in input order."""
    from python_jobs.text import embed

    get = {"embedding_model": "churn-local-embed", "llm_cache_path": str(tmp_path / "c.sqlite")}.get
    whole = embed_reviews(reviews_frame(10), embed_settings(get, show_progress=False)).read_all()
    monkeypatch.setattr(embed, "OUTPUT_ROWS", 3)
    batches = list(embed_reviews(reviews_frame(10), embed_settings(get, show_progress=False)))
    assert [b.num_rows for b in batches] == [3, 3, 3, 1]
    assert pa.Table.from_batches(batches).drop(["enriched_at"]).equals(whole.drop(["enriched_at"]))


def test_unchanged_training_reviews_reuse_the_weak_model_without_reading_a_text(tmp_path, monkeypatch):
    import duckdb

    from python_jobs.text import weak_registry

    reviews = reviews_frame()
    spine = pd.DataFrame({"snapshot_date": [pd.Timestamp("2026-01-01")], "split": ["test"]})
    with duckdb.connect() as con:
        con.register("reviews", reviews)
        first = fit_registry(
            con.sql("select * from reviews"), spine, tmp_path, "churn-local-tagger", "true", 0
        )
        monkeypatch.setattr(weak_registry, "redact", lambda text: pytest.fail("a text was read"))
        again = fit_registry(
            con.sql("select * from reviews"), spine, tmp_path, "churn-local-tagger", "true", 0
        )
        assert again.equals(first) and first["status"].to_pylist() == ["fitted"]
        # one training review edited: its digest is new, so the texts are read (and redacted) again
        monkeypatch.undo()
        edited = reviews.assign(body=reviews["body"].where(reviews.index != 0, "edited text"))
        con.register("edited", edited)
        read: list[str] = []
        original = weak_registry.redact
        monkeypatch.setattr(weak_registry, "redact", lambda text: read.append(text) or original(text))
        fit_registry(con.sql("select * from edited"), spine, tmp_path, "churn-local-tagger", "true", 0)
        assert len(read) == len(edited)


def test_weak_model_reads_its_training_reviews_in_chunks_and_fits_as_from_one_table(tmp_path, monkeypatch):
    """fit_registry streams the training reviews (64-row chunks here) into a table of canonical pairs instead of
    holding every text: the model is the one fitted from the whole Arrow table, the same version and weights."""
    import duckdb

    from python_jobs.text import incremental
    from python_jobs.text.weak_registry import load

    reviews = reviews_frame(600)
    spine = pd.DataFrame({"snapshot_date": [pd.Timestamp("2026-01-01")], "split": ["test"]})
    whole = fit_registry(
        pa.Table.from_pandas(reviews), spine, tmp_path / "whole", "churn-local-tagger", "true", 0
    )
    monkeypatch.setattr(incremental, "CHUNK_ROWS", 64)
    with duckdb.connect() as con:
        con.register("reviews", reviews.sample(frac=1, random_state=3))  # another order
        chunked = fit_registry(
            con.sql("select * from reviews"), spine, tmp_path / "chunks", "churn-local-tagger", "true", 0
        )
    assert chunked["weak_model_version"].to_pylist() == whole["weak_model_version"].to_pylist()
    assert chunked["n_rated"].to_pylist() == whole["n_rated"].to_pylist() == [600]
    probe, lex = ["great quality", "broken and late", "it is ok"], [0.5, -0.5, 0.0]
    np.testing.assert_array_equal(
        load(chunked).predict_proba(probe, lex), load(whole).predict_proba(probe, lex)
    )
