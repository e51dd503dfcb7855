"""`llm` plugin entry point: the offline default tagger and embedder of this package.

Registered through `[project.entry-points.llm]` in pyproject.toml, so `llm.get_model("churn-local-tagger")`
and `llm.get_embedding_model("churn-local-embed")` work everywhere `llm` does (Python API and `llm` CLI),
and the pipeline treats them exactly like a remote model. Keep this module's imports light and safe:
`llm` imports it while loading plugins. The optional local LLM taggers (`local_llm`, extra `local-llm`) are
registered here too when their runtime and weights are installed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from typing import Any

import llm

from python_jobs.text.local_embed import DIM, EMBED_VERSION
from python_jobs.text.prompt import parse_prompt

TAGGER_ID = "churn-local-tagger"
EMBED_ID = "churn-local-embed"


class LocalTagger(llm.Model):
    """Lexicon + rules tagger (VADER's lexicon folded into English), stacked with the shipped public n-gram
    sentiment model (`public_model`) and optionally blended with the weak-label model fitted on the shop's star
    ratings. Reads the fenced batch prompt of `prompt.build_prompt` (or a bare text) and returns JSON that
    matches `schema.batch_schema()` (or `schema.tag_schema()` for a bare text)."""

    model_id = TAGGER_ID
    can_stream = False
    supports_schema = True

    def __init__(self, weak: Any = None) -> None:
        # optional `weak_label.WeakSentiment` fitted on the shop's star ratings, blended into sentiment
        self.weak = weak

    @property
    def processes(self) -> int:
        """Processes the runner may tag in (runner._request_pool): CHURN_TAG_PROCESSES, default one per core."""
        return int(os.environ.get("CHURN_TAG_PROCESSES") or os.cpu_count() or 1)

    @property
    def version(self) -> str:
        from python_jobs.text.public_model import base_version

        return base_version() + (f"+{self.weak.version}" if self.weak is not None else "")

    def execute(
        self,
        prompt: llm.Prompt,
        stream: bool,
        response: llm.Response,
        conversation: llm.Conversation | None,
    ) -> Iterator[str]:
        text = prompt.prompt or ""
        items = parse_prompt(text)
        out: dict[str, Any]
        bodies = [text] if items is None else [body for _, body in items]
        from python_jobs.text.public_model import tag_batch

        tags = tag_batch(bodies)
        if self.weak is not None and tags:
            proba = self.weak.predict_proba(bodies, [t["sentiment"] for t in tags])
            for t, p in zip(tags, proba, strict=True):
                t["sentiment"] = round(float(p[2] - p[0]), 4)
                t["sentiment_label"] = ("negative", "neutral", "positive")[int(p.argmax())]
        if items is None:
            out = tags[0]
        else:
            out = {"items": [{"id": item_id, **t} for (item_id, _), t in zip(items, tags, strict=True)]}
        payload = json.dumps(out, ensure_ascii=False)
        response.set_usage(input=len(text) // 4, output=len(payload) // 4)
        yield payload


class LocalEmbed(llm.EmbeddingModel):
    """Character n-gram hashing embedder (see `local_embed`). Yields lists of floats, as the `llm` API promises."""

    model_id = EMBED_ID
    batch_size = 4096
    dimensions = DIM
    version = EMBED_VERSION

    def embed_batch(self, items: Iterable[str | bytes], *, key: str | None = None) -> Iterator[Any]:
        from python_jobs.text.local_embed import embed_array

        texts = [i.decode("utf-8", "replace") if isinstance(i, bytes) else i for i in items]
        yield from embed_array(texts).tolist()


@llm.hookimpl
def register_models(register: Any) -> None:
    register(LocalTagger())
    # the optional local LLMs (extra `local-llm`): only when llama-cpp-python and their weights are installed
    from python_jobs.text.local_llm import available_models

    for model in available_models():
        register(model)


@llm.hookimpl
def register_embedding_models(register: Any) -> None:
    register(LocalEmbed())
