"""Shared state of the app: settings, the retriever, the model engine, and a few plain-word helpers.

Nothing here does heavy work at import: the retriever (embedding model, index) and the model
provider are opened on first use, once per process, behind a lock.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from coach.config import PACKAGE_ROOT

#: The example pair file shipped with the project (offered in the Coach tab's pair picker).
PACKAGE_EXAMPLE = PACKAGE_ROOT / "examples" / "pair.yaml"

if TYPE_CHECKING:
    from coach.config import Settings
    from coach.knowledge import KnowledgeBase
    from coach.providers import Provider

#: Plain names of the knowledge domains, as a first-time user reads them.
DOMAIN_LABELS: dict[str, str] = {
    "generative-ai": "Generative AI",
    "consumer-trends": "Consumer trends",
    "collaboration-tools": "Collaboration tools (Slack, Teams)",
    "social-media": "Social media",
    "digital-workflow": "Digital workflow",
    "data-literacy": "Data literacy",
    "cybersecurity-privacy": "Cybersecurity and privacy",
    "strategy-context": "Strategy and business context",
    "leadership-communication": "Leadership and communication",
    "career-navigation": "Career navigation",
    "program-practice": "Running the mentoring",
}


def domain_label(domain: str) -> str:
    """The plain name of a domain (the slug itself when unknown)."""
    return DOMAIN_LABELS.get(domain, domain)


def settings() -> Settings:
    """Settings from the environment (read each time: cheap, and tests change the environment)."""
    from coach.config import load_settings

    return load_settings()


class LockedRetriever:
    """A retriever whose searches run one at a time (the app serves several requests at once).

    The underlying index (embedded Chroma, BM25, the embedding model) is shared by every request;
    a re-entrant lock keeps concurrent searches from stepping on each other. Searches take
    milliseconds, so the lock costs little; model calls happen outside it.
    """

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._lock = threading.RLock()

    @property
    def kb(self) -> KnowledgeBase:
        """The knowledge base the index was built from."""
        return self._inner.kb  # type: ignore[no-any-return]

    def search(self, *args: Any, **kwargs: Any) -> Any:
        """Same as the inner retriever's `search`, serialised."""
        with self._lock:
            return self._inner.search(*args, **kwargs)

    def search_many(self, *args: Any, **kwargs: Any) -> Any:
        """Same as the inner retriever's `search_many`, serialised."""
        with self._lock:
            return self._inner.search_many(*args, **kwargs)

    def search_all(self, *args: Any, **kwargs: Any) -> Any:
        """Same as the inner retriever's `search_all` (cards and documents), serialised."""
        with self._lock:
            return self._inner.search_all(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


_lock = threading.Lock()
_retriever: LockedRetriever | None = None


def retriever() -> Any:
    """The shared retriever over the indexed knowledge base (opened on first use).

    Typed as Any because the library functions expect `coach.retrieval.Retriever`; this wrapper
    offers the same `kb`, `search` and `search_many`.
    """
    global _retriever
    with _lock:
        if _retriever is None:
            from coach.retrieval import get_retriever

            _retriever = LockedRetriever(get_retriever(settings()))
        return _retriever


def reset_retriever() -> None:
    """Forget the retriever, so the next request opens it again (after cards were saved and re-indexed)."""
    global _retriever
    with _lock:
        _retriever = None


# --------------------------------------------------------------------------- model engine


@dataclass(frozen=True)
class EngineInfo:
    """Which engine answers, in words for the page."""

    engine: str
    model: str
    label: str
    problem: str | None = None


def engine_info() -> EngineInfo:
    """The engine `COACH_MODEL` selects, described for a non-developer (a bad value falls back to offline)."""
    from coach.errors import InputError
    from coach.providers import parse_model

    s = settings()
    try:
        spec = parse_model(s.model, s)
    except InputError as exc:
        return EngineInfo(
            "offline", "cards", "Offline: answers are composed from the knowledge cards", f"COACH_MODEL: {exc.expected}"
        )
    if spec.offline:
        return EngineInfo("offline", "cards", "Offline: answers are composed from the knowledge cards (no AI model)")
    if spec.engine == "local":
        return EngineInfo("local", spec.model, f"Local model {spec.model}, running on this machine")
    where = "an OpenAI-compatible server" if spec.base_url else "OpenAI"
    return EngineInfo("openai", spec.model, f"Model {spec.model} on {where}")


_provider_lock = threading.Lock()
_provider_stack: contextlib.ExitStack | None = None
_provider: Provider | None = None


def provider() -> Provider | None:
    """The model provider for `COACH_MODEL`, opened once per process (None offline).

    For the local engine this starts the llama.cpp server on first use; it is stopped when the
    process exits.
    """
    global _provider_stack, _provider
    if engine_info().engine == "offline":
        return None
    with _provider_lock:
        if _provider_stack is None:
            from coach.providers import open_provider

            stack = contextlib.ExitStack()
            _provider = stack.enter_context(open_provider(settings()))
            _provider_stack = stack
            atexit.register(stack.close)
        return _provider


# --------------------------------------------------------------------------- small helpers


def lines(text: str | None) -> list[str]:
    """Non-empty, stripped lines of a multi-line text box."""
    return [ln.strip(" \t-•*").strip() for ln in (text or "").splitlines() if ln.strip(" \t-•*").strip()]
