"""Fakes for the text-enrichment tests: a scriptable `llm` model and a local OpenAI-compatible HTTP server.

Both answer tagging prompts with the local lexicon tagger (so a fake "remote" model gives realistic tags),
unless a test scripts a failure for a given request.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import llm
from llm.plugins import pm

from python_jobs.text.local_tagger import tag_text
from python_jobs.text.prompt import parse_prompt
from python_jobs.text.runner import TagSettings


def tag_settings(tmp_path: Path, model_id: str, **kw: Any) -> TagSettings:
    """TagSettings for a test run: its cache under tmp_path, no progress display, `kw` (batching, retries)."""
    return TagSettings(model_id=model_id, cache_path=tmp_path / "cache.sqlite", show_progress=False, **kw)


def answer(prompt: str) -> str:
    """What a well-behaved model returns for a tagging prompt: the batch JSON from the local tagger."""
    items = parse_prompt(prompt)
    if items is None:
        return json.dumps(tag_text(prompt))
    return json.dumps({"items": [{"id": i, **tag_text(t)} for i, t in items]}, ensure_ascii=False)


class FakeTagModel(llm.Model):
    """A scriptable in-process model. `script` maps a call number (0-based) to a behaviour:
    a string returned verbatim, an exception raised, or a callable(prompt) -> str. Unscripted calls answer
    correctly. Every prompt is recorded in `prompts`."""

    model_id = "fake-tagger"
    can_stream = False
    supports_schema = True

    def __init__(self) -> None:
        self.prompts: list[str] = []
        self.script: dict[int, Any] = {}
        self.default: Callable[[str], str] = answer

    def execute(self, prompt, stream, response, conversation) -> Iterator[str]:
        call = len(self.prompts)
        self.prompts.append(prompt.prompt or "")
        action = self.script.get(call, self.default)
        if isinstance(action, BaseException):
            raise action
        yield action(prompt.prompt or "") if callable(action) else action


@contextmanager
def registered(model: llm.Model, name: str = "text-fakes") -> Iterator[llm.Model]:
    """Register a model with `llm` for the duration (the way simonw/llm's own tests do)."""

    class Plugin:
        __name__ = "TextFakesPlugin"

        @llm.hookimpl
        def register_models(self, register):
            register(model)

    pm.register(Plugin(), name=name)
    try:
        yield model
    finally:
        pm.unregister(name=name)


class FakeOpenAI:
    """OpenAI-compatible /v1/chat/completions on 127.0.0.1 (streaming SSE and plain JSON).

    `script[n]` sets the behaviour of the n-th request: "429", "500", "timeout" (sleeps `slow_s` before
    answering), "badjson" (a 200 with broken JSON), or a callable(prompt) -> str; `fail_all` sets one for
    every request. Unscripted requests answer with the local tagger. Request bodies are recorded in
    `requests`. Errors tell the OpenAI SDK not to retry unless `sdk_may_retry`.
    """

    def __init__(self, slow_s: float = 1.5, sdk_may_retry: bool = False) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: dict[int, Any] = {}
        self.fail_all: str | None = None  # "500", "429" or "badjson": every request, whatever the script says
        self.slow_s = slow_s
        # False: errors carry x-should-retry: false, so the OpenAI SDK's own retries stay off
        self.sdk_may_retry = sdk_may_retry
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with fake._lock:
                    n = len(fake.requests)
                    fake.requests.append(body)
                action = fake.fail_all or fake.script.get(n)
                if action in ("429", "500"):
                    self._error(int(action))
                    return
                if action == "timeout":
                    time.sleep(fake.slow_s)
                user = next((m["content"] for m in reversed(body["messages"]) if m["role"] == "user"), "")
                if isinstance(user, list):
                    user = "".join(part.get("text", "") for part in user)
                content = (
                    '{"items": [{"id": "0", "sentiment": '
                    if action == "badjson"
                    else (action(user) if callable(action) else answer(user))
                )
                if body.get("stream"):
                    self._stream(content, body.get("model", "fake"))
                else:
                    self._json(content, body.get("model", "fake"))

            def _error(self, status: int) -> None:
                payload = json.dumps({"error": {"message": f"fake {status}", "type": "fake_error"}}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if not fake.sdk_may_retry:  # let our retry logic, not the SDK's, handle it
                    self.send_header("x-should-retry", "false")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _json(self, content: str, model: str) -> None:
                payload = json.dumps(
                    {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion",
                        "created": 0,
                        "model": model,
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": content},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30},
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _stream(self, content: str, model: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()

                def chunk(
                    delta: dict[str, Any], finish: str | None = None, usage: dict | None = None
                ) -> None:
                    data = {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion.chunk",
                        "created": 0,
                        "model": model,
                        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
                        if usage is None
                        else [],
                    }
                    if usage is not None:
                        data["usage"] = usage
                    self.wfile.write(f"data: {json.dumps(data)}\n\n".encode())

                chunk({"role": "assistant", "content": ""})
                for i in range(0, len(content), 40):
                    chunk({"content": content[i : i + 40]})
                chunk({}, finish="stop")
                chunk({}, usage={"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30})
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def register(self, user_dir: Path, model_id: str = "fake-remote") -> str:
        """Declare the server as an `llm` model through extra-openai-models.yaml in LLM_USER_PATH."""
        user_dir.mkdir(parents=True, exist_ok=True)
        (user_dir / "extra-openai-models.yaml").write_text(
            f"- model_id: {model_id}\n  model_name: fake-model\n  api_base: {self.api_base}\n  supports_schema: true\n"
        )
        return model_id

    def user_prompts(self) -> list[str]:
        return [m["content"] for body in self.requests for m in body["messages"] if m["role"] == "user"]
