"""`llm` plugin entry point: the offline default tagger and embedder of this package.

Registered through `[project.entry-points.llm]` in pyproject.toml, so `llm.get_model("churn-local-tagger")`
and `llm.get_embedding_model("churn-local-embed")` work everywhere `llm` does (Python API and `llm` CLI),
and the pipeline treats them exactly like a remote model. Keep this module's imports light and safe:
`llm` imports it while loading plugins.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import llm

from python_jobs.text.local_embed import DIM, EMBED_VERSION
from python_jobs.text.local_tagger import LEXICON_VERSION, tag_text
from python_jobs.text.prompt import parse_prompt

TAGGER_ID = "churn-local-tagger"
EMBED_ID = "churn-local-embed"


class LocalTagger(llm.Model):
    """Lexicon + rules tagger. Reads the fenced batch prompt of `prompt.build_prompt` (or a bare text)
    and returns JSON that matches `schema.batch_schema()` (or `schema.tag_schema()` for a bare text)."""

    model_id = TAGGER_ID
    can_stream = False
    supports_schema = True
    version = LEXICON_VERSION

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
        if items is None:
            out = tag_text(text)
        else:
            out = {"items": [{"id": item_id, **tag_text(body)} for item_id, body in items]}
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


@llm.hookimpl
def register_embedding_models(register: Any) -> None:
    register(LocalEmbed())
