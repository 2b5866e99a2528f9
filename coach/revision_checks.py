"""The checks a revised plan must pass (the plan checks, relaxed where an edit may change them) and the refusal."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import statistics
from typing import TYPE_CHECKING

from coach.errors import InputError
from coach.models import Cadence, Mentee, Mentor, Pair, Plan, Program

if TYPE_CHECKING:
    from coach.knowledge import KnowledgeBase

MIN_MINUTES, MAX_MINUTES = 15, 180


class RevisionRefused(InputError):
    """The edit would break the plan's rules; the plan is unchanged (bad input: exit 2, SPEC section 8)."""

    def __init__(self, problems: list[str], detail: str = "") -> None:
        self.problems = problems
        head = "the edit was refused"
        if detail:
            head += f" ({detail})"
        super().__init__("INSTRUCTION", "", f"{head}: " + "; ".join(problems))


_RELAXED = re.compile(r"^session \d+: (?:minutes should be|date should be)")


def infer_cadence(plan: Plan) -> Cadence:
    """weekly, biweekly or monthly, from the gaps between the plan's dates."""
    dates = [s.date for s in plan.sessions]
    gaps = [(b - a).days for a, b in itertools.pairwise(dates)]
    if not gaps:
        return "biweekly"
    gap = statistics.median(gaps)
    return "weekly" if gap <= 9 else "biweekly" if gap <= 20 else "monthly"


def pair_from_plan(plan: Plan, pair: Pair | None = None) -> Pair:
    """A pair matching the plan as it now stands (for the checks); the pair file's extra fields when given."""
    first = plan.sessions[0] if plan.sessions else None
    goals = list(plan.goals) or (list(pair.mentee.goals) if pair else [])
    if not goals:
        top = max((g for s in plan.sessions for g in s.goals), default=0)
        goals = [f"goal {i + 1}" for i in range(top + 1)]
    # model_construct: the plan may legitimately hold values a pair file may not (a 200-minute edit is refused by the checks).
    program = Program.model_construct(
        sessions=len(plan.sessions),
        minutes=first.minutes if first else 45,
        cadence=(pair.program.cadence if pair else infer_cadence(plan)),
        start=first.date if first else dt.date.today(),
    )
    mentor = Mentor.model_construct(
        name=plan.mentor.name, role=plan.mentor.role, strengths=pair.mentor.strengths if pair else []
    )
    mentee = Mentee.model_construct(
        name=plan.mentee.name, role=plan.mentee.role, goals=goals, comfort=pair.mentee.comfort if pair else {}
    )
    return Pair.model_construct(mentor=mentor, mentee=mentee, program=program)


def check_revised(plan: Plan, kb: KnowledgeBase, pair: Pair | None = None) -> list[str]:
    """The plan checks, with lengths and dates free to change, plus order and length limits."""
    from coach.checks import check_plan

    like = pair_from_plan(plan, pair)
    errors = [e for e in check_plan(plan, like, kb) if not _RELAXED.match(e)]
    for i, s in enumerate(plan.sessions):
        if not MIN_MINUTES <= s.minutes <= MAX_MINUTES:
            errors.append(f"session {i + 1}: {s.minutes} minutes is outside {MIN_MINUTES}-{MAX_MINUTES}")
        if i and s.date <= plan.sessions[i - 1].date:
            errors.append(
                f"session {i + 1}: its date {s.date} must come after session {i}'s ({plan.sessions[i - 1].date})"
            )
    return errors


def new_problems(before: Plan, after: Plan, kb: KnowledgeBase, pair: Pair | None = None) -> list[str]:
    """Problems the edit introduced (a plan already broken by hand is not held against the edit)."""
    old = set(check_revised(before, kb, pair))
    return [p for p in check_revised(after, kb, pair) if p not in old]
