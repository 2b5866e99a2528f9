"""Revise a plan: common edits offline, anything else through the model; either way the result is checked.

The offline edits understood (topic, length, date, drop, add, compress after a cancellation) are
listed in coach.instructions, which reads them; coach.editor applies them.

The edited plan must pass the plan checks, relaxed only where an edit legitimately changes the
pair's numbers (a session's length or date, the number of sessions); otherwise the edit is
refused with the reasons and the plan is left as it was.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from coach.editor import Editor
from coach.errors import InputError
from coach.instructions import parse_edits
from coach.models import Pair, Plan
from coach.revision_checks import RevisionRefused, new_problems

if TYPE_CHECKING:
    from coach.providers import Provider
    from coach.retrieval import Retriever

# Names other modules import from here; the parser, the checks and the editor live in
# coach.instructions, coach.revision_checks and coach.editor.
__all__ = ["Revision", "RevisionRefused", "load_plan_file", "parse_edits", "revise", "revise_offline"]

OFFLINE_EXAMPLES = (
    "'make session 3 about Teams', 'make session 4 45 minutes', 'make session 3 30 minutes shorter', "
    "'move session 3 to 14 Feb', 'push everything back two weeks', 'swap sessions 2 and 3', 'drop session 4', "
    "'add a session on dashboards' or 'session 3 was cancelled, compress the rest' (one change per clause, "
    "joined with 'and'; name the session by its number)"
)


@dataclass
class Revision:
    """A revised plan and what changed."""

    plan: Plan
    changes: list[str] = field(default_factory=list)
    engine: str = "offline"


def load_plan_file(path: str, field: str = "--plan") -> Plan:
    """Read a plan JSON file written by `coach plan --format json` (bounded in size and nesting)."""
    import json
    from pathlib import Path

    from pydantic import ValidationError

    from coach.errors import from_validation
    from coach.limits import PLAN_FILE_BYTES

    p = Path(path)
    if not p.is_file():
        raise InputError(path, field, "a plan JSON file (from `coach plan --format json`), but it does not exist")
    size = p.stat().st_size
    if size > PLAN_FILE_BYTES:
        raise InputError(
            path, "", f"a plan JSON file of at most {PLAN_FILE_BYTES // (1024 * 1024)} MB (got {size:,} bytes)"
        )
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(path, "", "a UTF-8 plan JSON file") from None
    if text.lstrip().startswith("#"):
        raise InputError(
            path, "", "plan JSON, but this is a Markdown plan; write one with `coach plan --pair FILE --out plan.json`"
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, "", f"plan JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except RecursionError:
        # json is recursive: a file of nested brackets would otherwise end in a traceback.
        raise InputError(path, "", "plan JSON, but it is nested too deeply to be a plan") from None
    if not isinstance(data, dict):
        raise InputError(path, "", "a JSON object with mentor, mentee and sessions")
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        raise from_validation(path, exc) from None
    if not plan.sessions:
        raise InputError(path, "sessions", "at least one session")
    return plan


def check_instruction(instruction: str) -> None:
    """Refuse an empty or over-long instruction before any parsing (bounded work for any input)."""
    from coach.limits import INSTRUCTION_CHARS

    if not instruction.strip():
        raise InputError("INSTRUCTION", "instruction", "a description of the change, e.g. " + OFFLINE_EXAMPLES)
    if len(instruction) > INSTRUCTION_CHARS:
        raise InputError(
            "INSTRUCTION",
            "instruction",
            f"at most {INSTRUCTION_CHARS:,} characters (got {len(instruction):,}); describe one change at a time",
        )


def revise_offline(plan: Plan, instruction: str, retriever: Retriever, pair: Pair | None = None) -> Revision:
    """Apply the edits the offline coach understands; raises InputError when it understands none."""
    check_instruction(instruction)
    from coach.instructions import read_instruction

    edits, unread = read_instruction(instruction, plan)
    if not edits:
        raise InputError("INSTRUCTION", "", f"an edit the offline coach understands, such as {OFFLINE_EXAMPLES}")
    if unread:
        # Half an instruction applied reads as all of it done ("drop session 4 and close the gap").
        raise InputError(
            "INSTRUCTION",
            "",
            "an edit in every part, but the offline coach cannot read "
            + " or ".join(repr(u) for u in unread)
            + f", so nothing was changed; say each change in words it knows, such as {OFFLINE_EXAMPLES}",
        )
    editor = Editor(plan, retriever, pair)
    for edit in edits:
        editor.apply(edit)
    if any(e.kind == "drop" for e in edits):
        editor.say_gaps()  # on the plan as it ends up ("drop session 4 and move the rest ..." leaves none)
    problems = new_problems(plan, editor.plan, retriever.kb, pair)
    if any(e.kind == "swap" for e in edits):
        # Asked for in so many words: a swap may put a card before its prerequisite; say so rather than refuse.
        early = [p for p in problems if "comes before its prerequisite" in p]
        problems = [p for p in problems if p not in early]
        editor.changes += [f"note: {editor.readable(p)}; swap back if that is too early" for p in early]
    if problems:
        raise RevisionRefused(problems)
    from coach.wording import refresh_measures

    # "worked on in session 2" must follow a topic moved away from session 2 (the probe found it stale).
    editor.plan.success_measures = refresh_measures(
        editor.plan.success_measures, editor.plan.goals or editor.pair.mentee.goals, editor.plan.sessions
    )
    # What was asked and what it did: "Changes made" in the plan is read by people who did not ask.
    stamp = f"Revised offline: “{instruction.strip()}”: " + "; ".join(editor.changes)
    editor.plan.notes = [*editor.plan.notes, stamp]
    return Revision(editor.plan, editor.changes, "offline")


def revise(
    plan: Plan,
    instruction: str,
    retriever: Retriever,
    pair: Pair | None = None,
    provider: Provider | None = None,
) -> Revision:
    """Revise with the model when one is configured (checked, repaired, else offline), otherwise offline.

    Raises:
        RevisionRefused: the edited plan would break the rules (the plan is unchanged).
        InputError: offline, and the instruction is not an edit the offline coach understands.
    """
    check_instruction(instruction)
    if provider is None:
        return revise_offline(plan, instruction, retriever, pair)
    from coach.chains import revise_with_model

    kb = retriever.kb
    ids = list(dict.fromkeys(t.id for s in plan.sessions for t in s.topics))
    with contextlib.suppress(Exception):
        ids += [h.card.id for h in retriever.search(instruction, k=6)]
    cards = [c for c in (kb.get(i) for i in dict.fromkeys(ids)) if c is not None][:24]
    outcome = revise_with_model(plan, instruction, cards, kb, provider, lambda p: new_problems(plan, p, kb, pair))
    if outcome.plan is not None:
        revised = outcome.plan.model_copy(
            update={
                "generated_by": provider.generated_by(),
                "attempts": outcome.attempts,
                "usage": outcome.usage.as_dict(),
                "notes": [*plan.notes, f"Revised by {provider.model}: {instruction.strip()}"],
            }
        )
        return Revision(revised, _diff(plan, revised), provider.engine)
    reason = outcome.reason("the model's edit")
    if parse_edits(instruction, plan):
        result = revise_offline(plan, instruction, retriever, pair)
        result.plan.fallback_reason = f"{reason}; applied the edit offline"
        result.changes.append(f"(the model's edit was not usable: {reason}; applied offline)")
        return result
    raise RevisionRefused(outcome.problems or [reason], detail=f"{provider.model} did not produce a valid edit")


def _diff(old: Plan, new: Plan) -> list[str]:
    """What changed between two plans, one line per session."""
    out = []
    if len(old.sessions) != len(new.sessions):
        out.append(f"{len(old.sessions)} -> {len(new.sessions)} sessions")
    for a, b in zip(old.sessions, new.sessions, strict=False):
        parts = []
        if a.title != b.title:
            parts.append(f"title {b.title!r}")
        if a.minutes != b.minutes:
            parts.append(f"{a.minutes} -> {b.minutes} minutes")
        if a.date != b.date:
            parts.append(f"{a.date} -> {b.date}")
        if [t.id for t in a.topics] != [t.id for t in b.topics]:
            parts.append("topics " + ", ".join(t.id for t in b.topics))
        if parts:
            out.append(f"session {b.number}: " + "; ".join(parts))
    return out or ["no change"]
