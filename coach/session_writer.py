"""Model-written sessions: one streamed request per session, run concurrently, each checked and repaired alone.

The offline draft fixes a plan's structure (sessions, dates, minutes, topics, goals, who leads each
block and who asks each question). The model rewrites only the words of one session at a time:
title, objectives, pre-work, agenda wording, discussion prompts and reflection. Each answer is
streamed, so a slow model that keeps sending is never mistaken for a dead one: the client's read
timeout (`COACH_TIMEOUT`) is the longest silence allowed, not the longest answer. A session whose
text fails its checks goes back to the model with the problems (at most twice), then falls back to
the draft's text alone; rules across sessions (no repeated prompt, activity order) are checked on
the assembled plan and the sessions they name get one more try.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from coach.models import AgendaItem, DiscussionPrompt, Plan, Session
from coach.providers import ModelFailure, Provider
from coach.repair import MAX_ATTEMPTS, MAX_PROBLEMS_SHOWN, Usage, stream_structured
from coach.repair import validation_problems as validation_problems
from coach.safety import LeakGuard, fence

#: Longest line of session text accepted (the prompt asks for LINE_CHARS; a title for TITLE_CHARS).
TEXT_CHARS = 400
LINE_CHARS = 150
TITLE_CHARS = 80
SCHEMA_NAME = "session_text"
#: Agenda blocks and reflection lines every session shares word for word: they stay the draft's, so
#: the model spends no tokens on them.
FIXED_BLOCKS = ("Check-in:", "Wrap-up:", "Introductions:")
FIXED_REFLECTION = ("Both: rate this session",)

State = Literal["writing", "written", "repairing", "draft"]


class SessionTextOut(BaseModel):
    """The words of one session; its structure (minutes, leads, topics, dates) stays the draft's."""

    title: str
    objectives: list[str]
    agenda: list[str] = Field(description="the wording of each agenda block given, in the same order")
    discussion_prompts: list[str] = Field(description="each discussion question, in the draft's order")
    reflection: list[str]


def session_schema() -> dict[str, Any]:
    """The JSON schema of one session's text."""
    schema = SessionTextOut.model_json_schema()
    schema["title"] = SCHEMA_NAME
    return schema


def writable_blocks(session: Session) -> list[int]:
    """Indexes of the agenda blocks whose wording the model writes (not the shared check-in and wrap-up)."""
    return [i for i, a in enumerate(session.agenda) if not a.activity.startswith(FIXED_BLOCKS)]


def _own_reflection(session: Session) -> list[str]:
    return [r for r in session.reflection if not r.startswith(FIXED_REFLECTION)]


def session_text(session: Session) -> dict[str, Any]:
    """A session's words in the form the model answers with."""
    return {
        "title": session.title,
        "objectives": session.objectives,
        "agenda": [session.agenda[i].activity for i in writable_blocks(session)],
        "discussion_prompts": [p.text for p in session.discussion_prompts],
        "reflection": _own_reflection(session),
    }


def session_slice(session: Session, goals: list[str]) -> dict[str, Any]:
    """What the model reads of the draft's session: its words and the structure they must fit."""
    return {
        "number": session.number,
        "date": session.date.isoformat(),
        "minutes": session.minutes,
        "topics": [t.title for t in session.topics],
        "goals": [goals[g] for g in session.goals if 0 <= g < len(goals)],
        "title": session.title,
        "objectives": session.objectives,
        "agenda": [
            {
                "minutes": session.agenda[i].minutes,
                "lead": session.agenda[i].lead,
                "activity": session.agenda[i].activity,
            }
            for i in writable_blocks(session)
        ],
        "discussion_prompts": [{"asked_by": p.asked_by, "text": p.text} for p in session.discussion_prompts],
        "reflection": _own_reflection(session),
    }


def _clean(text: str) -> str:
    return " ".join(str(text).split())


def merge(draft: Session, out: SessionTextOut) -> Session:
    """The draft's session with the model's words in place (minutes, leads, askers and shared lines kept)."""
    words = dict(zip(writable_blocks(draft), out.agenda, strict=True))
    fixed = [r for r in draft.reflection if r.startswith(FIXED_REFLECTION)]
    return draft.model_copy(
        update={
            "title": _clean(out.title),
            "objectives": [_clean(t) for t in out.objectives],
            "agenda": [
                AgendaItem(minutes=a.minutes, activity=_clean(words[i]) if i in words else a.activity, lead=a.lead)
                for i, a in enumerate(draft.agenda)
            ],
            "discussion_prompts": [
                DiscussionPrompt(text=_clean(text), asked_by=p.asked_by)
                for p, text in zip(draft.discussion_prompts, out.discussion_prompts, strict=True)
            ],
            "reflection": [_clean(t) for t in out.reflection] + fixed,
        }
    )


def _counts_fit(out: SessionTextOut, draft: Session) -> bool:
    return (len(out.agenda), len(out.discussion_prompts)) == (
        len(writable_blocks(draft)),
        len(draft.discussion_prompts),
    )


def text_problems(out: SessionTextOut, draft: Session) -> list[str]:
    """What is wrong with one session's words on their own (counts, empty or overlong lines, repeats)."""
    problems: list[str] = []
    blocks = len(writable_blocks(draft))
    if len(out.agenda) != blocks:
        problems.append(f"agenda has {len(out.agenda)} lines; it needs exactly {blocks}, one per block given")
    if len(out.discussion_prompts) != len(draft.discussion_prompts):
        problems.append(
            f"discussion_prompts has {len(out.discussion_prompts)} questions; "
            f"it needs exactly {len(draft.discussion_prompts)}"
        )
    if not _clean(out.title):
        problems.append("title is empty")
    elif len(_clean(out.title)) > 2 * TITLE_CHARS:
        problems.append(f"title is over {2 * TITLE_CHARS} characters")
    for name in ("objectives", "reflection"):
        if not [t for t in getattr(out, name) if _clean(t)]:
            problems.append(f"{name} is empty: write at least one")
    for name in ("objectives", "agenda", "discussion_prompts", "reflection"):
        for i, line in enumerate(getattr(out, name)):
            if not _clean(line):
                problems.append(f"{name}[{i}] is empty")
            elif len(_clean(line)) > TEXT_CHARS:
                problems.append(f"{name}[{i}] is over {TEXT_CHARS} characters")
    seen: set[str] = set()
    for text in out.discussion_prompts:
        key = re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()
        if key and key in seen:
            problems.append(f"the question {_clean(text)[:80]!r} is asked twice")
        seen.add(key)
    return problems


# --------------------------------------------------------------------------- one streamed call


@dataclass
class SessionEvent:
    """Progress of one session, for whoever shows it (the Plan tab, a CLI progress bar)."""

    number: int
    total: int
    state: State
    #: The session as it stands: the model's (written) or the draft's (draft); None while writing.
    session: Session | None = None
    #: Completion tokens received so far for this session.
    tokens: int = 0
    note: str = ""


Progress = Callable[[SessionEvent], None]


# --------------------------------------------------------------------------- one session


@dataclass
class SessionJob:
    """What one session's requests need: its draft and its prompt (built for the provider's input cap)."""

    draft: Session
    system: str
    user: str
    max_tokens: int
    #: Why this session is not sent at all (its prompt or its answer would not fit the caps).
    skip: str | None = None


@dataclass
class SessionResult:
    """How one session ended: the model's session, or the draft's with the reason."""

    number: int
    session: Session
    by_model: bool
    attempts: int = 0
    usage: Usage = field(default_factory=Usage)
    reason: str | None = None
    #: The model's last readable session, valid or not (the eval suite scores what the model wrote).
    last_readable: Session | None = None
    #: The model's last answer text and the messages it answered (a later repair continues from them).
    messages: list[Any] = field(default_factory=list)
    text: str = ""


def _repair_message(problems: list[str]) -> Any:
    from langchain_core.messages import HumanMessage

    from coach.prompts import render

    shown = problems[:MAX_PROBLEMS_SHOWN]
    if len(problems) > len(shown):
        shown.append(f"... and {len(problems) - len(shown)} more")
    listed = fence("problems", "\n".join(f"- {p}" for p in shown))
    return HumanMessage(content=render("session_repair", errors=listed))


def write_session(
    provider: Provider,
    job: SessionJob,
    guard: LeakGuard,
    progress: Callable[[State, int, str], None],
    problems: list[str] | None = None,
    previous: SessionResult | None = None,
    attempts: int = MAX_ATTEMPTS,
) -> SessionResult:
    """Ask for one session's words until they pass their own checks or the attempts run out.

    With `problems` and `previous`, this is a repair of text that passed alone but broke a rule
    across sessions: the conversation continues from the model's last answer.
    """
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    number = job.draft.number
    base: list[Any] = [SystemMessage(content=job.system), HumanMessage(content=job.user)]
    result = previous or SessionResult(number, job.draft, False)
    result.by_model, result.session = False, job.draft
    if job.skip:
        # Asking would only produce a refused or truncated answer: say so at once instead of waiting.
        result.reason = job.skip
        return result
    messages = base
    if problems and previous is not None and previous.text:
        messages = [*base, AIMessage(content=previous.text[: provider.max_input_chars // 2]), _repair_message(problems)]
    schema = session_schema()
    last: list[str] = list(problems or [])
    for _ in range(attempts):
        result.attempts += 1
        progress("writing" if result.attempts == 1 else "repairing", 0, "")
        try:
            answer = stream_structured(provider, messages, schema, job.max_tokens, lambda n: progress("writing", n, ""))
        except Exception as exc:
            err = provider.failure(exc)
            if not isinstance(err, ModelFailure):
                raise err from exc
            result.reason = str(err)
            return result
        result.usage.add(answer.usage)
        result.text = answer.text
        if answer.data is None:
            last = [f"the answer was not a JSON object ({answer.error})"]
        else:
            last = _evaluate(answer.data, job.draft, guard, result)
            if not last:
                result.by_model, result.reason = True, None
                result.messages = messages
                return result
        room = provider.max_input_chars - sum(len(str(m.content)) for m in base) - 2000
        messages = [*base, AIMessage(content=answer.text[: max(0, room)]), _repair_message(last)]
    first = last[0] if last else "unknown problem"
    more = f" and {len(last) - 1} more" if len(last) > 1 else ""
    result.reason = f"its text failed its checks {result.attempts} times (last: {first}{more})"
    return result


def _evaluate(data: dict[str, Any], draft: Session, guard: LeakGuard, result: SessionResult) -> list[str]:
    try:
        out = SessionTextOut.model_validate(data)
    except ValidationError as exc:
        return validation_problems(exc)
    if guard.leaks(json.dumps(data)):
        return ["the text repeats the coach's instructions; write only this session's text"]
    problems = text_problems(out, draft)
    if _counts_fit(out, draft):
        try:
            merged = merge(draft, out)
        except (ValueError, ValidationError) as exc:
            return [*problems, f"the text does not fit the session: {_short(str(exc))}"]
        result.last_readable = merged
        if not problems:
            result.session = merged
    return problems


def _short(text: str, limit: int = 160) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


# --------------------------------------------------------------------------- the whole plan


@dataclass
class SessionsOutcome:
    """Every session's result and the assembled plan (model sessions where they passed, draft elsewhere)."""

    plan: Plan
    results: list[SessionResult]
    usage: Usage

    @property
    def model_sessions(self) -> list[int]:
        """Numbers of the sessions the model wrote."""
        return [r.number for r in self.results if r.by_model]

    @property
    def fallbacks(self) -> dict[int, str]:
        """Session number -> why the draft's text was kept."""
        return {r.number: r.reason or "unknown reason" for r in self.results if not r.by_model}

    @property
    def attempts(self) -> int:
        """The most requests any one session needed."""
        return max((r.attempts for r in self.results), default=0)


_SESSION_PROBLEM = re.compile(r"^session (\d+):")


def by_session(problems: Iterable[str]) -> tuple[dict[int, list[str]], list[str]]:
    """Plan-check problems grouped by the session they name, and the ones naming none."""
    grouped: dict[int, list[str]] = {}
    other: list[str] = []
    for p in problems:
        found = _SESSION_PROBLEM.match(p)
        if found:
            grouped.setdefault(int(found.group(1)), []).append(p)
        else:
            other.append(p)
    return grouped, other


def write_sessions(
    provider: Provider,
    draft: Plan,
    jobs: list[SessionJob],
    check: Callable[[Plan], list[str]],
    secrets: list[str],
    concurrency: int,
    progress: Progress | None = None,
    attempts: int = MAX_ATTEMPTS,
) -> SessionsOutcome:
    """Write every session concurrently (at most `concurrency` requests at once), then check the whole plan.

    Raises CoachError when the model cannot be used at all (server unreachable, key refused).
    """
    total = len(jobs)
    guard = LeakGuard(secrets)
    lock = threading.Lock()

    def report(number: int) -> Callable[[State, int, str], None]:
        def send(state: State, tokens: int, note: str) -> None:
            # Every 16th token is enough to show movement without flooding the listener.
            if progress is not None and (tokens == 0 or tokens % 16 == 0):
                with lock:
                    progress(SessionEvent(number, total, state, None, tokens, note))

        return send

    def finished(result: SessionResult) -> SessionResult:
        if progress is not None:
            with lock:
                state: State = "written" if result.by_model else "draft"
                progress(SessionEvent(result.number, total, state, result.session, 0, result.reason or ""))
        return result

    def run(job: SessionJob) -> SessionResult:
        return finished(write_session(provider, job, guard, report(job.draft.number), attempts=attempts))

    workers = max(1, min(concurrency, total))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="coach-session") as pool:
        results = list(pool.map(run, jobs))
        results = _cross_session_round(provider, draft, jobs, results, check, guard, pool, report, finished)
    usage = Usage()
    for r in results:
        usage.prompt_tokens += r.usage.prompt_tokens
        usage.completion_tokens += r.usage.completion_tokens
        usage.calls += r.usage.calls
    plan = _assemble(draft, results)
    return SessionsOutcome(plan, results, usage)


def _assemble(draft: Plan, results: list[SessionResult]) -> Plan:
    sessions = [r.session if r.by_model else d for r, d in zip(results, draft.sessions, strict=True)]
    return draft.model_copy(update={"sessions": sessions})


def _cross_session_round(
    provider: Provider,
    draft: Plan,
    jobs: list[SessionJob],
    results: list[SessionResult],
    check: Callable[[Plan], list[str]],
    guard: LeakGuard,
    pool: ThreadPoolExecutor,
    report: Callable[[int], Callable[[State, int, str], None]],
    finished: Callable[[SessionResult], SessionResult],
) -> list[SessionResult]:
    """Rules across sessions: the sessions a problem names get one more try, then the draft's text."""
    grouped, other = by_session(check(_assemble(draft, results)))
    if other:
        # Not about one session's words (the draft's structure would be wrong): keep the whole draft.
        for r, d in zip(results, draft.sessions, strict=True):
            r.by_model, r.session = False, d
            r.reason = r.reason or f"the plan broke a rule across sessions ({other[0]})"
        return results
    if not grouped:
        return results
    index = {r.number: i for i, r in enumerate(results)}
    retry = [n for n in grouped if n in index and results[index[n]].by_model]

    def again(n: int) -> SessionResult:
        i = index[n]
        return finished(write_session(provider, jobs[i], guard, report(n), grouped[n], results[i], attempts=1))

    for n, redone in zip(retry, pool.map(again, retry), strict=True):
        results[index[n]] = redone
    grouped, other = by_session(check(_assemble(draft, results)))
    for n, problems in grouped.items():
        i = index.get(n)
        if i is not None and results[i].by_model:
            results[i].by_model, results[i].session = False, draft.sessions[i]
            results[i].reason = f"it broke a rule across sessions ({problems[0]})"
            finished(results[i])
    if other or by_session(check(_assemble(draft, results)))[0]:
        for r, d in zip(results, draft.sessions, strict=True):
            r.by_model, r.session = False, d
            r.reason = r.reason or "the assembled plan failed its checks"
    return results
