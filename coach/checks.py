"""The rules every plan must meet, whoever wrote it (the offline planner or a model)."""

from __future__ import annotations

import datetime as dt
import re

from coach.knowledge import KnowledgeBase
from coach.models import PROGRAM_DOMAIN, SENIOR_DOMAINS, Pair, Plan

KICKOFF_CARD = "program-kickoff-ground-rules"
GOALS_CARD = "program-goal-setting"
CLOSING_CARD = "program-closing-review"
CANCELLATIONS_CARD = "program-handling-cancellations"


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, clamped to the month's last day (31 Jan + 1 -> 28/29 Feb)."""
    import calendar

    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def session_date(start: dt.date, cadence: str, index: int) -> dt.date:
    """Date of session `index` (0-based) from the start date and the cadence."""
    if cadence == "weekly":
        return start + dt.timedelta(days=7 * index)
    if cadence == "biweekly":
        return start + dt.timedelta(days=14 * index)
    return add_months(start, index)


def normalise(text: str) -> str:
    """Lowercase words only, for comparing prompts."""
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def check_plan(plan: Plan, pair: Pair, kb: KnowledgeBase) -> list[str]:
    """Every rule the plan breaks, one message each; an empty list means the plan is valid."""
    errors: list[str] = []
    prog = pair.program
    if len(plan.sessions) != prog.sessions:
        errors.append(f"expected {prog.sessions} sessions, got {len(plan.sessions)}")
    for i, s in enumerate(plan.sessions):
        where = f"session {i + 1}"
        if s.number != i + 1:
            errors.append(f"{where}: number should be {i + 1}, got {s.number}")
        if s.minutes != prog.minutes:
            errors.append(f"{where}: minutes should be {prog.minutes}, got {s.minutes}")
        total = sum(a.minutes for a in s.agenda)
        if total != s.minutes:
            errors.append(f"{where}: agenda minutes add up to {total}, expected {s.minutes}")
        want = session_date(prog.start, prog.cadence, i)
        if s.date != want:
            errors.append(
                f"{where}: date should be {want.isoformat()} ({prog.cadence} from {prog.start}), got {s.date}"
            )
        if not s.topics:
            errors.append(f"{where}: has no topics")
        for t in s.topics:
            card = kb.get(t.id)
            if card is None:
                errors.append(f"{where}: topic {t.id!r} is not a card in the knowledge base")
            elif card.domain != t.domain:
                errors.append(f"{where}: topic {t.id!r} has domain {t.domain}, the card says {card.domain}")
        cited = {c.topic_id for c in s.citations}
        for c in s.citations:
            if kb.get(c.topic_id) is None:
                errors.append(f"{where}: citation {c.topic_id!r} is not a card in the knowledge base")
        for t in s.topics:
            if t.id not in cited:
                errors.append(f"{where}: topic {t.id!r} is not cited")
        senior_topics = [t for t in s.topics if t.domain in SENIOR_DOMAINS]
        senior_led = [a for a in s.agenda if a.lead == "mentee"]
        if not senior_topics or not senior_led:
            errors.append(f"{where}: needs a segment the senior leader leads, drawn from {', '.join(SENIOR_DOMAINS)}")
        if not s.discussion_prompts:
            errors.append(f"{where}: has no discussion prompts")
        elif not ({p.asked_by for p in s.discussion_prompts} & {"mentee", "both"}) or not (
            {p.asked_by for p in s.discussion_prompts} & {"mentor", "both"}
        ):
            errors.append(f"{where}: discussion prompts should run both ways (asked by mentor and by mentee)")
        for g in s.goals:
            if not 0 <= g < len(pair.mentee.goals):
                errors.append(f"{where}: goal index {g} does not exist")
    if plan.sessions:
        if KICKOFF_CARD not in {t.id for t in plan.sessions[0].topics}:
            errors.append(f"session 1 should open with ground rules and goal setting ({KICKOFF_CARD})")
        if CLOSING_CARD not in {t.id for t in plan.sessions[-1].topics}:
            errors.append(f"the last session should review progress and agree next steps ({CLOSING_CARD})")
    covered = {g for s in plan.sessions for g in s.goals}
    for gi, goal in enumerate(pair.mentee.goals):
        if gi not in covered:
            errors.append(f"goal {gi + 1} ({goal!r}) is not covered by any session")
    errors += _order_errors(plan, kb)
    seen: dict[str, int] = {}
    for s in plan.sessions:
        for p in s.discussion_prompts:
            key = normalise(p.text)
            if key in seen:
                errors.append(f"session {s.number}: prompt repeats one from session {seen[key]}: {p.text!r}")
            else:
                seen[key] = s.number
    return errors


def _order_errors(plan: Plan, kb: KnowledgeBase) -> list[str]:
    """Prerequisites that appear in the plan must come before their dependants."""
    position: dict[str, tuple[int, int]] = {}
    for s in plan.sessions:
        for j, t in enumerate(s.topics):
            position.setdefault(t.id, (s.number, j))
    errors = []
    for cid, (num, j) in position.items():
        card = kb.get(cid)
        if card is None or card.domain == PROGRAM_DOMAIN:
            continue
        for pre in card.prerequisites:
            if pre in position and position[pre] > (num, j):
                errors.append(f"session {num}: {cid!r} comes before its prerequisite {pre!r}")
    return errors
