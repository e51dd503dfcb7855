"""The tag runner with a fake in-process `llm` model: validation, quarantine, cache, budget, crash resume."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from text_fakes import FakeTagModel, answer, registered, tag_settings

from python_jobs.text.cache import LLMCache
from python_jobs.text.runner import TagRun, TagSettings, _compact, cache_version, tag_texts
from python_jobs.text.schema import TAG_FIELDS

TEXTS = [f"Order {i}: the delivery was late and the box was damaged." for i in range(10)]
IDS = [str(i) for i in range(10)]


@pytest.fixture
def fake():
    with registered(FakeTagModel()) as model:
        yield model


def settings(tmp_path, **kw) -> TagSettings:
    batching = {"texts_per_request": 4, "concurrency": 1, "backoff_s": 0.0}
    return tag_settings(tmp_path, "fake-tagger", **(batching | kw))


def test_tags_match_schema_and_cache_makes_second_run_free(tmp_path, fake):
    tags, tally = tag_texts(IDS, TEXTS, settings(tmp_path))
    assert len(fake.prompts) == 3 and tally.sent == 10
    row = tags.to_pylist()[0]
    assert row["tag_status"] == "tagged" and row["sentiment_label"] == "negative"
    assert "delivery" in row["topics"] and -1 <= row["sentiment"] <= 1
    tags2, tally2 = tag_texts(IDS, TEXTS, settings(tmp_path))
    assert len(fake.prompts) == 3 and tally2.cached == 10 and tally2.requests == 0
    assert tags2.column("sentiment").to_pylist() == tags.column("sentiment").to_pylist()


def test_tags_held_compactly_same_table_fresh_and_cached(tmp_path, fake):
    """A run holds each text's tags as a tuple whose repeating values (labels, languages, topic sets) are one
    object each; the table is the same whether the tags came from the model or from the cache."""
    fresh, _ = tag_texts(IDS, TEXTS, settings(tmp_path))
    cached, tally = tag_texts(IDS, TEXTS, settings(tmp_path))
    assert tally.requests == 0 and fresh.num_rows == len(IDS)
    assert cached.select(list(TAG_FIELDS)).equals(fresh.select(list(TAG_FIELDS)))
    tags = {"sentiment": -0.5, "sentiment_label": "negative", "topics": ["delivery"], "churn_intent": False}
    tags |= {"intensity": 0.4, "language": "en", "evidence": "late"}
    shared: dict = {}
    one, other = _compact(tags, shared), _compact({**tags, "topics": ["delivery"], "evidence": "box"}, shared)
    assert one == (-0.5, "negative", ("delivery",), False, 0.4, "en", "late")
    assert other[TAG_FIELDS.index("topics")] is one[TAG_FIELDS.index("topics")]


COUNTED = ("total", "unique", "cached", "sent", "tagged", "quarantined", "failed", "over_budget", "attempted")


def test_a_run_in_chunks_tags_and_counts_as_one_call(tmp_path, fake):
    """A run handed its texts in chunks (enrichment reads a million rows a chunk at a time) gives the table and
    counts of one call: a text repeated in a later chunk is not sent again, whether it was tagged, failed or
    quarantined in this run; the budget spans the chunks."""
    from python_jobs.text.prompt import parse_prompt

    def invalid_number_0(prompt: str) -> str:
        data = json.loads(answer(prompt))
        texts = dict(parse_prompt(prompt))
        for item in data["items"]:
            if "number 5" in texts[item["id"]]:
                item["sentiment"] = 7  # never valid: quarantined
        return json.dumps(data)

    unique = [f"text number {i} arrived late" for i in range(12)]
    texts = unique + unique[1::2] + unique[11:]  # repeats (failed, quarantined, tagged, over budget) later
    ids = [str(i) for i in range(len(texts))]
    runs = {}
    for name, size in (("one", len(texts)), ("chunks", 5)):
        (tmp_path / name).mkdir()
        fake.prompts.clear()
        fake.default = invalid_number_0
        fake.script = {0: ValueError("bad request")}  # the first request's four texts fail
        with TagRun(settings(tmp_path / name, max_retries=1, max_texts=10)) as run:
            parts = [run.tag(ids[i : i + size], texts[i : i + size]) for i in range(0, len(ids), size)]
        sent = [t for p in fake.prompts for _, t in parse_prompt(p)]
        runs[name] = (pa.concat_tables(parts), run.tally, sorted(sent))
    (one, one_tally, one_sent), (chunked, tally, chunked_sent) = runs["one"], runs["chunks"]
    assert chunked.drop_columns(["text_id"]).equals(one.drop_columns(["text_id"]))
    assert chunked["text_id"].to_pylist() == ids
    assert {f: getattr(tally, f) for f in COUNTED} == {f: getattr(one_tally, f) for f in COUNTED}
    assert chunked_sent == one_sent  # the same texts, each as often (a quarantined one once per retry)
    status = dict(zip(texts, chunked["tag_status"].to_pylist(), strict=False))
    assert [status[unique[i]] for i in (1, 5, 7, 11)] == ["failed", "quarantined", "tagged", "over_budget"]
    assert (
        tally.total == len(texts) and tally.unique == 12 and tally.sent == 10 and tally.texts_over_budget == 2
    )


def test_duplicate_texts_are_sent_once(tmp_path, fake):
    tags, tally = tag_texts(["a", "b", "c"], ["same text", "same text", "other"], settings(tmp_path))
    assert tally.unique == 2 and tally.sent == 2 and tags.num_rows == 3


def test_invalid_items_retried_then_quarantined_with_reason(tmp_path, fake):
    from python_jobs.text.prompt import parse_prompt

    calls = {"n": 0}

    def flaky(prompt: str) -> str:
        calls["n"] += 1
        data = json.loads(answer(prompt))
        texts = dict(parse_prompt(prompt))
        for item in data["items"]:
            if "number 0" in texts[item["id"]]:
                item["sentiment"] = 7  # always out of range -> quarantined
            elif "number 1" in texts[item["id"]] and calls["n"] == 1:
                item["topics"] = ["weather"]  # wrong once, fixed on the retry
        data["items"] = [i for i in data["items"] if "number 2" not in texts[i["id"]] or calls["n"] > 1]
        return json.dumps(data)

    fake.default = flaky
    texts = [f"text number {i} was bad" for i in range(4)]
    tags, tally = tag_texts(IDS[:4], texts, settings(tmp_path, max_retries=2))
    status = dict(zip(texts, tags.column("tag_status").to_pylist(), strict=True))
    assert status == {texts[0]: "quarantined", texts[1]: "tagged", texts[2]: "tagged", texts[3]: "tagged"}
    assert tags.column("status_reason")[0].as_py() == (
        "sentiment out of range: 7 (quarantined 1 time(s), retried next run)"
    )
    assert tally.quarantined == 1 and tally.retries == 2
    # retries resend only what was still invalid or missing
    assert "number 3" not in fake.prompts[1] and "number 0" in fake.prompts[1]
    with LLMCache(tmp_path / "cache.sqlite") as cache:
        assert cache.counts() == {"tags": 3, "quarantine": 1, "embeddings": 0}


def test_transient_errors_retry_with_backoff(tmp_path, fake):
    fake.script = {0: TimeoutError("slow"), 1: ConnectionError("reset")}
    tags, tally = tag_texts(IDS[:2], TEXTS[:2], settings(tmp_path))
    assert tags.column("tag_status").to_pylist() == ["tagged", "tagged"]
    assert tally.retries == 2 and len(fake.prompts) == 3


def test_non_retryable_error_fails_without_caching_and_hides_keys(tmp_path, fake):
    fake.script = {0: ValueError("bad request with key sk-live-abcdef123456 and Bearer tok123")}
    tags, _ = tag_texts(IDS[:2], TEXTS[:2], settings(tmp_path))
    assert tags.column("tag_status").to_pylist() == ["failed", "failed"]
    reason = tags.column("status_reason")[0].as_py()
    assert "sk-live" not in reason and "tok123" not in reason and "[SECRET]" in reason
    tags, _ = tag_texts(IDS[:2], TEXTS[:2], settings(tmp_path))
    assert tags.column("tag_status").to_pylist() == ["tagged", "tagged"]


def test_budget_stops_cleanly_and_next_run_continues(tmp_path, fake):
    tags, tally = tag_texts(IDS, TEXTS, settings(tmp_path, max_texts=6))
    assert tally.sent == 6 and tally.over_budget == 4
    assert tags.column("tag_status").to_pylist().count("over_budget") == 4
    tags, tally = tag_texts(IDS, TEXTS, settings(tmp_path, max_texts=6))
    assert tally.sent == 4 and tally.cached == 6
    assert set(tags.column("tag_status").to_pylist()) == {"tagged"}


def test_crash_mid_run_resumes_without_resending_finished_texts(tmp_path, fake):
    class Crash(BaseException):
        """Like a KeyboardInterrupt or a killed worker: not handled by the runner."""

    fake.script = {2: Crash()}
    with pytest.raises(Crash):
        tag_texts(IDS, TEXTS, settings(tmp_path))
    sent_before = [p for p in fake.prompts[:2]]
    fake.script = {}
    fake.prompts.clear()
    tags, tally = tag_texts(IDS, TEXTS, settings(tmp_path))
    assert tally.cached == 8 and tally.sent == 2 and len(fake.prompts) == 1
    assert set(tags.column("tag_status").to_pylist()) == {"tagged"}
    finished = {t for p in sent_before for t in TEXTS if t in p}
    assert not any(t in fake.prompts[0] for t in finished)


def test_cache_key_includes_prompt_schema_and_model_versions(tmp_path, fake):
    version = cache_version(fake)
    assert "tags-v" in version and "prompt-v" in version and "redact-v" in version


def test_cache_open_waits_out_a_busy_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening the cache while another connection closes and checkpoints it can fail at once with "database is
    locked" (SQLite skips its busy wait there): the open tries again instead of failing the build."""
    import python_jobs.text.cache as cache_module

    path = tmp_path / "cache.sqlite"
    LLMCache(path).close()
    real_prepare = cache_module.LLMCache._prepare
    failures = iter([sqlite3.OperationalError("database is locked")] * 2)

    def busy_twice(self: LLMCache) -> None:
        error = next(failures, None)
        if error:
            raise error
        real_prepare(self)

    monkeypatch.setattr(cache_module.LLMCache, "_prepare", busy_twice)
    monkeypatch.setattr(cache_module, "OPEN_RETRY_S", 0.01)
    with LLMCache(path) as cache:
        cache.put_embeddings(["h"], np.ones((1, 2)), "m", "v")
    monkeypatch.setattr(cache_module, "OPEN_TIMEOUT_S", 0.0)
    failures = iter([sqlite3.OperationalError("database is locked")])
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        LLMCache(path)
