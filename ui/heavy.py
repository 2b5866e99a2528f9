"""CPU-heavy requests (plans, revisions, evals, reports) run in a small pool of their own, with a time limit.

Gradio already runs handlers off the event loop, in a thread pool it shares between every event.
Heavy work gets a second, smaller pool: at most `WORKERS` heavy jobs run at once and at most
`WAITING` wait, so a burst of plans or revisions cannot take every thread (or the interpreter)
from the chat and the page. A job over its time limit is answered with a clear message; Python
cannot stop a thread, so the job finishes in the background, which its bounded input keeps short.

In the running app (`use_processes`), handlers marked `process=True` (plans and revisions, pure
functions of their arguments) run in worker processes instead: a thread would share the
interpreter lock with the chat, so two plans at once made chat answers three times slower.
Each worker opens its own retriever on its first job and runs at a lower
scheduling priority, so the app's own process gets the CPU first. Called directly (tests, scripts), every
handler runs in the thread pool, in this process.
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
#: Scheduling niceness of worker processes: a plan takes the CPU only while the chat does not need it.
WORKER_NICENESS = 10
#: Default time limit of one heavy request, in seconds.
LIMIT_SECONDS = 60.0

_pool: ThreadPoolExecutor | None = None
_processes: Any = None
_use_processes = False
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


def use_processes(on: bool = True) -> None:
    """Run `process=True` handlers in worker processes from now on (the app turns this on at launch)."""
    global _use_processes
    _use_processes = on


def _process_executor() -> Any:
    global _processes
    with _lock:
        if _processes is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # spawn: a clean child (not a fork of a process with running threads) whose parent is the app
            # itself, so the kernel can stop it when the app ends (see _worker_start).
            _processes = ProcessPoolExecutor(
                max_workers=WORKERS, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_start
            )
            import atexit

            # Shut the pool down while the interpreter is whole (its manager thread complains otherwise).
            atexit.register(shutdown_processes)
        return _processes


def shutdown_processes() -> None:
    """Stop the worker processes, if any were started (at exit, and in tests)."""
    global _processes
    with _lock:
        pool, _processes = _processes, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def _worker_start() -> None:
    """In a new worker: yield the CPU to the app's own process, and end when the app ends."""
    import os
    import threading

    os.nice(WORKER_NICENESS)
    # Not PR_SET_PDEATHSIG: Linux sends it when the *thread* that spawned the worker ends, and workers are
    # spawned from Gradio's short-lived request threads, so a plan could die mid-way (one in three did).
    parent = os.getppid()

    def watch() -> None:
        # Notice the app has gone (even after kill -9: the worker is re-parented) and leave.
        import time

        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _call_in_worker(module: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """In a worker process: the undecorated handler `module.name` applied to `args` and `kwargs`."""
    import importlib

    handler = getattr(importlib.import_module(module), name)
    return handler.__wrapped__(*args, **kwargs)


def run_heavy(
    fn: Callable[..., T],
    *args: Any,
    seconds: float = LIMIT_SECONDS,
    what: str = "This request",
    in_process: tuple[str, str] | None = None,
    kwargs: dict[str, Any] | None = None,
) -> T:
    """Run `fn(*args)` in the heavy pool and wait at most `seconds` for it.

    Args:
        fn: The work.
        *args: Its arguments.
        seconds: The time limit.
        what: The request in words, for the messages.
        in_process: (module, name) of the decorated handler to run in a worker process instead.
        kwargs: Keyword arguments of `fn`.

    Raises:
        Overloaded: too many heavy requests are queued, or this one took longer than `seconds`.
    """
    if not _slots.acquire(blocking=False):
        raise Overloaded(
            f"{what} was not started: the coach is busy with other plans right now. Try again in a minute."
        )
    from concurrent.futures.process import BrokenProcessPool

    try:
        if in_process is not None:
            try:
                future = _process_executor().submit(_call_in_worker, *in_process, args, kwargs or {})
            except BrokenProcessPool:
                # A worker died earlier (killed, out of memory): a new pool, or every later request fails too.
                _drop_broken_processes()
                future = _process_executor().submit(_call_in_worker, *in_process, args, kwargs or {})
        else:
            future = _executor().submit(functools.partial(fn, *args, **(kwargs or {})))
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
    except BrokenProcessPool:
        # Not run again here: a request that kills its worker must not take down a second one.
        _drop_broken_processes()
        raise Overloaded(
            f"{what} was interrupted: the worker running it stopped unexpectedly. Try again; "
            "if it happens again, tell whoever runs the coach."
        ) from None


def _drop_broken_processes() -> None:
    """Forget a process pool whose worker died, so the next request starts a fresh one."""
    global _processes
    with _lock:
        pool = _processes
        if pool is None or not getattr(pool, "_broken", False):
            return
        _processes = None
    pool.shutdown(wait=False, cancel_futures=True)


def heavy(
    what: str, seconds: float = LIMIT_SECONDS, process: bool = False
) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Decorate a Gradio handler so it runs in the heavy pool; an overload becomes a message, not a traceback.

    Args:
        what: The request in words, for the messages.
        seconds: The time limit.
        process: Run in a worker process when the app enabled them (`use_processes`); the handler must
            be a module-level function whose arguments and result can be pickled.
    """

    def wrap(fn: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(fn)
        def handler(*args: Any, **kwargs: Any) -> T:
            import gradio as gr

            where = (fn.__module__, fn.__name__) if process and _use_processes else None
            try:
                return run_heavy(fn, *args, seconds=seconds, what=what, in_process=where, kwargs=kwargs)
            except Overloaded as exc:
                raise gr.Error(str(exc), print_exception=False) from None

        return handler

    return wrap
