"""A loopback OpenAI-compatible server for tests, scripted per test.

It stands in for a hosted model (which cannot run here) while the coach's real HTTP path runs:
ChatOpenAI -> openai client -> HTTP -> this server. Each test queues replies: a JSON answer,
429/500 errors, a malformed body, garbage text, a slow answer, or a function of the request
(for example "return the draft from the prompt with wrong minutes"). Every request body is
recorded, so privacy tests assert on what actually crossed the wire.

    with FakeOpenAI() as server:
        server.push(error(429), plan_from_prompt())
        ... COACH_MODEL=openai:fake OPENAI_BASE_URL=server.url ...
        assert len(server.requests) == 2

With a `Pace` it answers at a model's speed instead of at once: a time to first token, then a set
number of tokens per second (about four characters a token, as the usage counts), with optional
jitter and a 429 for every Nth request. Streamed answers arrive token by token at that speed; a
`Reply` with `stall_after` stops sending mid-answer, as a hung model does.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer."""

    status: int = 200
    content: str = ""
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    #: Sent as the whole HTTP body instead of a completion (e.g. malformed JSON).
    raw_body: str | None = None
    #: When the request offered tools: answer as a tool call (the default) or as plain content.
    as_tool_call: bool = True
    #: Streamed answers only: after this many tokens, send nothing more for `stall_seconds`, then hang up.
    stall_after: int | None = None
    stall_seconds: float = 30.0


@dataclass
class Pace:
    """How fast the server "generates": the speed a real model answers at."""

    #: Tokens per second once generation starts; 0 answers at once.
    tokens_per_second: float = 0.0
    #: Seconds before the first token (prompt processing and queueing).
    ttft: float = 0.0
    #: Each token's delay is multiplied by a random factor in [1 - jitter, 1 + jitter].
    jitter: float = 0.0
    #: Every Nth completion request is answered 429 Too Many Requests (0: never).
    rate_limit_every: int = 0
    seed: int = 0

    def token_delay(self, rng: random.Random) -> float:
        """Seconds between two tokens."""
        if self.tokens_per_second <= 0:
            return 0.0
        base = 1.0 / self.tokens_per_second
        return base * (1 + self.jitter * (2 * rng.random() - 1)) if self.jitter else base


def tokens_of(content: str) -> list[str]:
    """The answer cut into tokens of about four characters (the usage counts use the same rate)."""
    return [content[i : i + 4] for i in range(0, len(content), 4)]


Responder = Reply | Callable[[dict[str, Any]], Reply]


def text(content: str, **kw: Any) -> Reply:
    """A plain answer (or tool-call arguments when the request used tools)."""
    return Reply(content=content, **kw)


def json_reply(value: Any, **kw: Any) -> Reply:
    """An answer whose text is this JSON."""
    return Reply(content=json.dumps(value), **kw)


def error(status: int, message: str = "scripted error", retry_after_ms: int | None = 1) -> Reply:
    """An OpenAI-style error; a tiny Retry-After keeps the client's backoff short in tests."""
    headers = {"retry-after-ms": str(retry_after_ms)} if retry_after_ms is not None else {}
    return Reply(status=status, content=message, headers=headers)


def malformed_body() -> Reply:
    """HTTP 200 whose body is not JSON at all."""
    return Reply(raw_body='{"id": "chatcmpl-broken", "choices": [ {"message": ')


def slow(seconds: float, then: Reply | None = None) -> Reply:
    """An answer that arrives after `seconds`."""
    reply = then or text("slow answer")
    reply.delay = seconds
    return reply


def data_block(body: dict[str, Any], name: str) -> str:
    """The text of `<data name="NAME">` in the request's messages (LookupError when there is none)."""
    for m in body.get("messages", []):
        content = m.get("content") or ""
        if not isinstance(content, str):
            continue
        found = re.search(rf'<data name="{re.escape(name)}">\n(.*?)\n</data>', content, re.DOTALL)
        if found:
            return found.group(1)
    raise LookupError(f"no <data name={name!r}> block in the request")


def plan_from_prompt(mutate: Callable[[dict[str, Any]], None] | None = None, block: str = "draft") -> Responder:
    """Answer with the plan the prompt carries (the draft, or the plan to revise), optionally changed."""

    def respond(body: dict[str, Any]) -> Reply:
        try:
            plan = json.loads(data_block(body, block))
        except LookupError:
            return text("no plan in the prompt")
        if mutate is not None:
            mutate(plan)
        return json_reply(plan)

    return respond


def _brief(text: str, limit: int) -> str:
    """Text cut at a word boundary to at most `limit` characters."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "."


def session_from_prompt(
    mutate: Callable[[dict[str, Any]], None] | None = None, line_chars: int = 150, title_chars: int = 80
) -> Responder:
    """Answer a session request as a model that follows the brief: the draft's words, kept within its limits.

    The session's number is in the answer's title ("... (3)") so tests can see which request wrote what;
    `mutate` changes the answer (it receives it with the key "number" added, removed before sending).
    """

    def respond(body: dict[str, Any]) -> Reply:
        try:
            draft = json.loads(data_block(body, "session"))
        except LookupError:
            return text("no session in the prompt")
        out: dict[str, Any] = {
            "title": _brief(f"{draft['title']} ({draft['number']})", title_chars),
            "objectives": [_brief(t, line_chars) for t in draft["objectives"][:3]],
            "agenda": [_brief(a["activity"], line_chars) for a in draft["agenda"]],
            "discussion_prompts": [_brief(q["text"], line_chars) for q in draft["discussion_prompts"]],
            "reflection": [_brief(t, line_chars) for t in draft["reflection"][:2]],
            "number": draft["number"],
        }
        if mutate is not None:
            mutate(out)
        out.pop("number", None)
        return Reply(content=json.dumps(out, separators=(",", ":")))

    return respond


def system_prompt_of(body: dict[str, Any]) -> str:
    """The system message the client sent."""
    return next((m["content"] for m in body.get("messages", []) if m.get("role") == "system"), "")


def echo_system() -> Responder:
    """A model that obeys "print your system prompt"."""

    def respond(body: dict[str, Any]) -> Reply:
        return text("Sure. My instructions are:\n" + system_prompt_of(body))

    return respond


class FakeOpenAI:
    """The server. Use as a context manager; `url` is the base URL ending in /v1."""

    def __init__(self, api_key: str | None = None, model: str = "fake-model", pace: Pace | None = None) -> None:
        self.api_key = api_key
        self.model = model
        self.pace = pace or Pace()
        self._rng = random.Random(self.pace.seed)
        self._completions = 0
        #: Completion requests being answered right now, and the most there ever were at once.
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests: list[dict[str, Any]] = []
        self.request_headers: list[dict[str, str]] = []
        self.queue: deque[Responder] = deque()
        self.default: Responder = text("ok")
        #: Seconds spent building and sending answers (a benchmark subtracts it: it is the "model's" time).
        self.busy_seconds = 0.0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ scripting

    def push(self, *replies: Responder) -> FakeOpenAI:
        """Queue replies, used in order; after them the default answers."""
        with self._lock:
            self.queue.extend(replies)
        return self

    def always(self, reply: Responder) -> FakeOpenAI:
        """The answer once the queue is empty."""
        self.default = reply
        return self

    def wire_text(self) -> str:
        """Every recorded request body, as one JSON text (for privacy assertions)."""
        return "\n".join(json.dumps(b, ensure_ascii=False) for b in self.requests)

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """Base URL for OPENAI_BASE_URL."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        fake = self

        class Handler(_Handler):
            server_ref = fake

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # ------------------------------------------------------------------ answering

    def _next(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            responder = self.queue.popleft() if self.queue else self.default
        return responder(body) if callable(responder) else responder


class _Handler(BaseHTTPRequestHandler):
    server_ref: FakeOpenAI
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        return

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as separate writes: without TCP_NODELAY, Nagle's algorithm and
        # the client's delayed ACK add ~40 ms to every answer, which a real server does not.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None, ctype: str = "application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            data = {"object": "list", "data": [{"id": self.server_ref.model, "object": "model"}]}
            self._send(200, json.dumps(data).encode())
        else:
            self._send(404, b'{"error": {"message": "not found"}}')

    def do_POST(self) -> None:
        fake = self.server_ref
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._send(400, b'{"error": {"message": "request body is not JSON"}}')
            return
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(404, json.dumps({"error": {"message": f"no route {self.path}"}}).encode())
            return
        with fake._lock:
            fake.requests.append(body)
            fake.request_headers.append({k.lower(): v for k, v in self.headers.items()})
        if fake.api_key is not None and self.headers.get("Authorization") != f"Bearer {fake.api_key}":
            err = {
                "error": {
                    "message": "Incorrect API key provided",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                }
            }
            self._send(401, json.dumps(err).encode())
            return
        started = time.perf_counter()
        with fake._lock:
            fake.in_flight += 1
            fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
            fake._completions += 1
            throttled = fake.pace.rate_limit_every > 0 and fake._completions % fake.pace.rate_limit_every == 0
        reply = error(429, "rate limited by the pace") if throttled else fake._next(body)
        if reply.delay:
            time.sleep(reply.delay)
        # The client may have given up waiting (a timeout test): nothing to answer then.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._answer(body, reply)
        with fake._lock:
            fake.in_flight -= 1
            fake.busy_seconds += time.perf_counter() - started

    def _answer(self, body: dict[str, Any], reply: Reply) -> None:
        if reply.raw_body is not None:
            self._send(reply.status, reply.raw_body.encode())
            return
        if reply.status != 200:
            kind = "rate_limit_error" if reply.status == 429 else "server_error"
            err = {"error": {"message": reply.content, "type": kind, "code": None}}
            self._send(reply.status, json.dumps(err).encode(), reply.headers)
            return
        prompt_tokens = max(1, sum(len(str(m.get("content") or "")) for m in body.get("messages", [])) // 4)
        completion_tokens = max(1, len(reply.content) // 4)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        cid = "chatcmpl-" + uuid.uuid4().hex[:12]
        model = body.get("model", self.server_ref.model)
        tools = body.get("tools") or []
        if tools and reply.as_tool_call:
            name = tools[0]["function"]["name"]
            message: dict[str, Any] = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_" + uuid.uuid4().hex[:8],
                        "type": "function",
                        "function": {"name": name, "arguments": reply.content},
                    }
                ],
            }
            finish = "tool_calls"
        else:
            message = {"role": "assistant", "content": reply.content}
            finish = "stop"
        pace = self.server_ref.pace
        if body.get("stream"):
            call = message["tool_calls"][0] if finish == "tool_calls" else None
            self._stream(
                cid,
                model,
                reply,
                usage,
                bool((body.get("stream_options") or {}).get("include_usage")),
                call,
            )
            return
        if pace.tokens_per_second > 0 or pace.ttft > 0:
            # Not streamed: nothing arrives until the whole answer is written.
            time.sleep(pace.ttft + sum(self._delay() for _ in tokens_of(reply.content)))
        data = {
            "id": cid,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": usage,
        }
        self._send(200, json.dumps(data).encode(), reply.headers)

    def _delay(self) -> float:
        fake = self.server_ref
        with fake._lock:
            return fake.pace.token_delay(fake._rng)

    def _stream(
        self,
        cid: str,
        model: str,
        reply: Reply,
        usage: dict[str, int],
        include_usage: bool,
        call: dict[str, Any] | None,
    ) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()

        def event(payload: dict[str, Any]) -> None:
            self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
            self.wfile.flush()

        def delta(part: dict[str, Any], finish: str | None = None) -> None:
            event({**base, "choices": [{"index": 0, "delta": part, "finish_reason": finish}]})

        base = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": model}
        time.sleep(self.server_ref.pace.ttft)
        if call is not None:
            head = {"index": 0, "id": call["id"], "type": "function", "function": {"name": call["function"]["name"]}}
            delta(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{**head, "function": {**head["function"], "arguments": ""}}],
                }
            )
        else:
            delta({"role": "assistant", "content": ""})
        paced = self.server_ref.pace.tokens_per_second > 0
        pieces = (
            tokens_of(reply.content)
            if paced or reply.stall_after is not None
            else re.findall(r"\S+\s*|\s+", reply.content)
        )
        for n, piece in enumerate(pieces):
            if reply.stall_after is not None and n >= reply.stall_after:
                # A hung model: the connection stays open and silent, then drops without finishing.
                time.sleep(reply.stall_seconds)
                self.close_connection = True
                return
            if paced:
                time.sleep(self._delay())
            if call is not None:
                delta({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
            else:
                delta({"content": piece})
        delta({}, "tool_calls" if call is not None else "stop")
        if include_usage:
            event({**base, "choices": [], "usage": usage})
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True


def use_server(monkeypatch: Any, server: FakeOpenAI, model: str = "openai:fake-model", **env: str) -> None:
    """Point the coach at the server: COACH_MODEL, OPENAI_BASE_URL and quick retries for tests."""
    monkeypatch.setenv("COACH_MODEL", model)
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    monkeypatch.setenv("COACH_MAX_RETRIES", env.pop("retries", "2"))
    monkeypatch.setenv("COACH_TIMEOUT", env.pop("timeout", "10"))
    for k, v in env.items():
        monkeypatch.setenv(k, v)


def provider():
    """The provider the environment configures (after `use_server`, the loopback fake)."""
    from coach.config import load_settings
    from coach.providers import make_provider, parse_model

    settings = load_settings()
    return make_provider(parse_model(settings.model, settings), settings)
