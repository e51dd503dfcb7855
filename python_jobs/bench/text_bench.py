"""Text enrichment benchmarks: local tagger and embedder throughput, cold and cached, through `llm`.

`run(quick)` returns rows {area, case, metric, value, unit}. The corpus is generated deterministically
(English, Chinese and Portuguese review-like texts, ~80 characters), so no data set is needed.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

_EN = [
    "The delivery was {a} late",
    "Great quality, {b} happy",
    "Not good, the box was crushed",
    "Good price but it arrived broken",
    "Support never replied to my {c} emails",
    "Fits perfectly, love it",
    "I will never order again",
    "Refund took {c} weeks",
    "The app keeps crashing at checkout",
]
_ZH = [
    "送餐太慢了，等了{c}个小时",
    "质量很好，物流也快",
    "虽然价格便宜，但是质量太差了",
    "客服态度很好",
    "再也不买了",
]
_PT = [
    "Produto muito bom, recomendo",
    "A entrega atrasou {c} dias",
    "Não gostei, chegou quebrado",
    "Atendimento péssimo",
]


def corpus(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    banks = [_EN, _ZH, _PT]
    lang = rng.choice(3, size=n, p=[0.6, 0.25, 0.15])
    out = []
    for i, code in enumerate(lang):
        bank = banks[code]
        parts = [bank[j] for j in rng.choice(len(bank), size=2, replace=False)]
        out.append(". ".join(parts).format(a="very", b="so", c=int(rng.integers(2, 9))) + f" #{i}")
    return out


def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def run(quick: bool) -> list[dict]:
    import llm

    from python_jobs.text.embed import EmbedSettings, embed_texts
    from python_jobs.text.local_embed import embed_array
    from python_jobs.text.local_tagger import _tag_text_cached, tag_text
    from python_jobs.text.runner import TagSettings, tag_texts

    n = 20_000 if quick else 100_000
    texts = corpus(n)
    ids = [str(i) for i in range(n)]
    rows: list[dict] = []

    def row(case: str, metric: str, value: float, unit: str) -> None:
        rows.append({"area": "text", "case": case, "metric": metric, "value": float(value), "unit": unit})

    tag_text(texts[0])  # load lexicons
    _tag_text_cached.cache_clear()  # time the rules, not the memo
    t0 = time.perf_counter()
    for t in texts[:n]:
        tag_text(t)
    row(f"local tagger rules only, {n:,} texts", "throughput", _rate(n, time.perf_counter() - t0), "texts/s")

    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache.sqlite"
        settings = TagSettings(cache_path=cache, show_progress=False)
        _tag_text_cached.cache_clear()
        t0 = time.perf_counter()
        tag_texts(ids, texts, settings)
        cold = time.perf_counter() - t0
        row(
            f"tag pipeline via llm (redact+batch+validate+cache), {n:,} texts",
            "throughput",
            _rate(n, cold),
            "texts/s",
        )
        t0 = time.perf_counter()
        tag_texts(ids, texts, settings)
        row(f"tag pipeline, all cached, {n:,} texts", "wall time", time.perf_counter() - t0, "s")

        embed_array(texts[:100])
        t0 = time.perf_counter()
        embed_array(texts)
        row(
            f"local embedder array only, {n:,} texts",
            "throughput",
            _rate(n, time.perf_counter() - t0),
            "texts/s",
        )
        model = llm.get_embedding_model("churn-local-embed")
        t0 = time.perf_counter()
        for _ in model.embed_multi(texts):
            pass
        row(
            f"local embedder via llm embed_multi, {n:,} texts",
            "throughput",
            _rate(n, time.perf_counter() - t0),
            "texts/s",
        )
        es = EmbedSettings(cache_path=cache, show_progress=False)
        t0 = time.perf_counter()
        embed_texts(ids, texts, es).read_all()
        row(
            f"embed pipeline via llm (redact+cache), {n:,} texts",
            "throughput",
            _rate(n, time.perf_counter() - t0),
            "texts/s",
        )
        t0 = time.perf_counter()
        embed_texts(ids, texts, es).read_all()
        row(f"embed pipeline, all cached, {n:,} texts", "wall time", time.perf_counter() - t0, "s")
    return rows
