"""CPU-heavy requests (plans, revisions, evals, reports) run in a small pool of their own, with a time limit.

Gradio already runs handlers off the event loop, in a thread pool it shares between every event.
Heavy work gets a second, smaller pool: at most `WORKERS` heavy jobs run at once and at most
`WAITING` wait, so a burst of plans or revisions cannot take every thread (or the interpreter)
from the chat and the page. A job over its time limit is answered with a clear message; Python
cannot stop a thread, so the job finishes in the background, which its bounded input keeps short.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

T = TypeVar("T")

#: Heavy jobs running at once (two cores: the interpreter keeps room for chat and pages; a model-written
#: plan mostly waits on the network, so two let a second user's plan start meanwhile).
WORKERS = 2
#: Heavy jobs waiting for a worker before more are refused with "busy".
WAITING = 8
#: Default time limit of one heavy request, in seconds.
LIMIT_SECONDS = 60.0

_pool: ThreadPoolExecutor | None = None
_slots = threading.BoundedSemaphore(WORKERS + WAITING)
_lock = threading.Lock()


class Overloaded(Exception):
    """The heavy pool is full, or a job ran past its limit: the message says which, in plain words."""


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="heavy")
        return _pool


def run_heavy(fn: Callable[..., T], *args: Any, seconds: float = LIMIT_SECONDS, what: str = "This request") -> T:
    """Run `fn(*args)` in the heavy pool and wait at most `seconds` for it.

    Raises:
        Overloaded: too many heavy requests are queued, or this one took longer than `seconds`.
    """
    if not _slots.acquire(blocking=False):
        raise Overloaded(
            f"{what} was not started: the coach is busy with other plans right now. Try again in a minute."
        )
    try:
        future = _executor().submit(fn, *args)
    except BaseException:
        _slots.release()
        raise
    future.add_done_callback(lambda _f: _slots.release())
    try:
        return future.result(timeout=seconds)
    except FutureTimeout:
        raise Overloaded(
            f"{what} took longer than {seconds:.0f} seconds and was stopped. Try a smaller change."
        ) from None


def heavy(what: str, seconds: float = LIMIT_SECONDS) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Decorate a Gradio handler so it runs in the heavy pool; an overload becomes a message, not a traceback."""

    def wrap(fn: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(fn)
        def handler(*args: Any) -> T:
            import gradio as gr

            try:
                return run_heavy(fn, *args, seconds=seconds, what=what)
            except Overloaded as exc:
                raise gr.Error(str(exc), print_exception=False) from None

        return handler

    return wrap
