"""The Plan tab while a model writes: each session shown as it arrives, then the finished, checked plan.

The model's requests are network waits, not CPU work, so they run in a thread of the app's own
process (a worker process could not stream events back to the page). At most MODEL_PLANS plans
are written at once; another request meanwhile gets the offline plan with a plain note.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import gradio as gr

from ui.common import engine_info, provider, retriever, settings
from ui.forms import SLOTS
from ui.render import plan_sessions
from ui.safe import escape

if TYPE_CHECKING:
    from coach.models import Pair, Plan
    from coach.session_writer import SessionEvent

log = logging.getLogger(__name__)

#: Plans a model writes at once in this process (each runs up to COACH_CONCURRENCY requests).
MODEL_PLANS = 4
#: Seconds between two refreshes of the page while only token counts change.
REFRESH_SECONDS = 0.5

_plans = threading.BoundedSemaphore(MODEL_PLANS)


class SessionBoard:
    """What each session is doing, as the page shows it."""

    def __init__(self, draft: Plan) -> None:
        self.draft = draft
        self.state = {s.number: "waiting" for s in draft.sessions}
        self.tokens = {s.number: 0 for s in draft.sessions}
        self.notes: dict[int, str] = {}
        self.sessions = {s.number: s for s in draft.sessions}
        self.done: set[int] = set()

    def apply(self, event: SessionEvent) -> bool:
        """Take one event; True when a session started, ended or changed state (worth a refresh at once)."""
        before = self.state[event.number]
        self.state[event.number] = event.state
        if event.state == "writing":
            self.tokens[event.number] = max(self.tokens[event.number], event.tokens)
        if event.state in ("written", "draft"):
            self.done.add(event.number)
            if event.session is not None:
                self.sessions[event.number] = event.session
            if event.note:
                self.notes[event.number] = event.note
        return before != event.state

    def summary(self, model: str, started: float) -> str:
        """One line: how far the model is, in words."""
        done, total = len(self.done), len(self.state)
        writing = [str(n) for n, s in sorted(self.state.items()) if s in ("writing", "repairing")]
        now = ""
        if writing:
            listed = writing[0] if len(writing) == 1 else ", ".join(writing[:-1]) + " and " + writing[-1]
            now = f"; writing session{'s' if len(writing) > 1 else ''} {listed}"
        return (
            f"**Writing the plan with {escape(model)}: {done} of {total} sessions done{now}** "
            f"({time.monotonic() - started:.0f} s). Sessions appear below as they arrive."
        )

    def table(self) -> str:
        """Every session and its state, as a Markdown table."""
        rows = ["| # | Session | Progress |", "| ---: | --- | --- |"]
        words = {
            "waiting": "waiting",
            "writing": "writing",
            "repairing": "fixing a problem the checks found",
            "written": "✓ written by the model",
            "draft": "kept the offline planner's text",
        }
        for n, state in self.state.items():
            said = words[state]
            if state in ("writing", "repairing") and self.tokens[n]:
                said += f" ({self.tokens[n]} tokens so far)"
            if state == "draft" and self.notes.get(n):
                said += f": {escape(self.notes[n])}"
            title = escape(self.sessions[n].title).replace("|", "\\|")
            rows.append(f"| {n} | {title} | {said} |")
        return "\n".join(rows)

    def arrived(self) -> str:
        """The sessions finished so far, rendered as in the finished plan."""
        plan = self.draft.model_copy(update={"sessions": [self.sessions[n] for n in sorted(self.sessions)]})
        return plan_sessions(plan, only=self.done)


def write_with_model(pair: Pair, draft: Plan, finish: Callable[[Plan], tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """Yield the tab's outputs while the model writes each session, and last `finish(plan)` for the result."""
    from coach.checks import check_plan

    if not _plans.acquire(blocking=False):
        busy = "the coach is writing other plans with the model right now; here is the offline plan"
        yield finish(draft.model_copy(update={"fallback_reason": busy}))
        return
    events: queue.Queue[SessionEvent | None] = queue.Queue()
    box: dict[str, Plan] = {}
    worker = threading.Thread(target=_write, args=(pair, draft, events, box), name="coach-model-plan", daemon=True)
    try:
        worker.start()
    except BaseException:
        _plans.release()
        raise
    board = SessionBoard(draft)
    started = time.monotonic()
    label = engine_info().label
    model = label[:1].lower() + label[1:]  # "Model x on a server" reads "with model x on a server"
    keep = [gr.update() for _ in range(3)]  # the plan and pair states, and the session chooser

    def progress() -> tuple[Any, ...]:
        errors = [gr.update(value="", visible=False) for _ in SLOTS]
        views = (board.summary(model, started), *errors, keep[0], keep[1], board.table(), board.arrived())
        return (*views, keep[2], *[gr.update() for _ in range(4)])

    yield progress()
    last = time.monotonic()
    while True:
        try:
            event = events.get(timeout=REFRESH_SECONDS)
        except queue.Empty:
            yield progress()  # the elapsed time moves even when no token does
            last = time.monotonic()
            continue
        if event is None:
            break
        changed = board.apply(event)
        if changed or time.monotonic() - last >= REFRESH_SECONDS:
            yield progress()
            last = time.monotonic()
    plan = box["plan"]
    r = retriever()
    problems = check_plan(plan, pair, r.kb)
    if problems:  # never expected: every session passed its checks or kept the draft's text
        log.error("a model plan failed its checks after assembly: %s", problems)
        plan = draft.model_copy(update={"fallback_reason": "the model's plan failed its checks: " + problems[0]})
    yield finish(plan)


def _write(pair: Pair, draft: Plan, events: queue.Queue[SessionEvent | None], box: dict[str, Plan]) -> None:
    from coach.chains import write_plan
    from coach.errors import CoachError

    try:
        box["plan"] = write_plan(pair, retriever(), settings(), draft, provider=provider(), progress=events.put)
    except CoachError as exc:  # the model is misconfigured or unreachable: keep the offline plan
        box["plan"] = draft.model_copy(update={"fallback_reason": f"the model could not be used: {exc}"})
    except Exception:
        log.exception("writing a plan with the model failed")
        box["plan"] = draft.model_copy(
            update={"fallback_reason": "the model's plan failed unexpectedly (the server log has the details)"}
        )
    finally:
        _plans.release()
        events.put(None)
