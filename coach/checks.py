"""The rules every plan must meet, whoever wrote it (the offline planner or a model)."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from coach.knowledge import KnowledgeBase
from coach.models import MENTOR_DOMAINS, PROGRAM_DOMAIN, SENIOR_DOMAINS, Pair, Plan

if TYPE_CHECKING:
    from coach.retrieval import Retriever

#: Domains in plain words, for sentences (the slugs are for files and JSON).
DOMAIN_NAMES = {
    "generative-ai": "generative AI",
    "consumer-trends": "consumer trends",
    "collaboration-tools": "collaboration tools",
    "social-media": "social media",
    "digital-workflow": "digital workflow",
    "data-literacy": "data literacy",
    "cybersecurity-privacy": "cybersecurity and privacy",
    "strategy-context": "strategy and business context",
    "leadership-communication": "leadership and communication",
    "career-navigation": "career navigation",
    "program-practice": "running the pairing",
}

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
    uncovered = set(plan.uncovered_goals)
    for gi, goal in enumerate(pair.mentee.goals):
        if goal in uncovered:
            if gi in covered:
                errors.append(f"goal {gi + 1} ({goal!r}) is listed as uncovered but a session claims it")
        elif gi not in covered:
            errors.append(f"goal {gi + 1} ({goal!r}) is not covered by any session")
    errors += _order_errors(plan, kb)
    errors += activity_repeats(plan, kb)
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


def _fill(text: str, plan: Plan) -> str:
    for key, value in (
        ("{mentor}", plan.mentor.name),
        ("{mentee}", plan.mentee.name),
        ("{mentor_role}", plan.mentor.role),
        ("{mentee_role}", plan.mentee.role),
    ):
        text = text.replace(key, value)
    return text


def activity_uses(plan: Plan, kb: KnowledgeBase) -> list[list[tuple[str, int]]]:
    """Per session, the card activities its agenda runs, as (card id, activity index), in agenda order.

    An agenda block runs a card activity when it contains the activity's description (names filled in).
    """
    out: list[list[tuple[str, int]]] = []
    for s in plan.sessions:
        cards = [c for t in s.topics if (c := kb.get(t.id)) is not None]
        found: list[tuple[str, int]] = []
        for a in s.agenda:
            text = normalise(a.activity)
            for card in cards:
                for j, act in enumerate(card.activities):
                    desc = normalise(_fill(act.description, plan))
                    if desc and desc in text:
                        found.append((card.id, j))
        out.append(found)
    return out


def activity_repeats(plan: Plan, kb: KnowledgeBase) -> list[str]:
    """Card activities run twice in one session, or again in a later session while the card has unused ones."""
    uses = activity_uses(plan, kb)
    used = {key for found in uses for key in found}
    first: dict[tuple[str, int], int] = {}
    errors: list[str] = []
    for s, found in zip(plan.sessions, uses, strict=True):
        here: set[tuple[str, int]] = set()
        for key in found:
            card = kb.get(key[0])
            title = card.activities[key[1]].title if card else key[0]
            if key in here:
                errors.append(f"session {s.number}: runs the activity {title!r} twice")
                continue
            here.add(key)
            if key in first and first[key] != s.number and card is not None:
                unused = [a.title for j, a in enumerate(card.activities) if (card.id, j) not in used]
                if unused:
                    errors.append(
                        f"session {s.number}: repeats the activity {title!r} from session {first[key]} "
                        f"although {card.title!r} offers others ({unused[0]!r})"
                    )
            first.setdefault(key, s.number)
    return errors


#: Least cosine similarity (MiniLM, best passage) of a goal's best teaching card for the goal to count as served.
#: Measured on the eval cases and example pairs: goals the cards teach score 0.39 and up ("automate
#: repetitive admin" 0.45), goals they do not 0.30 and below (quantum-safe encryption 0.30, Mandarin
#: etiquette 0.27, regulatory submissions 0.27, underwater basket weaving 0.13).
GOAL_SERVED_SIMILARITY = 0.35


def served_goals(goals: list[str], retriever: Retriever) -> list[bool]:
    """For each goal, whether a teaching card is really about it (not merely the least unrelated card).

    Served: the best card is close in meaning (`GOAL_SERVED_SIMILARITY`) and one of the five best
    shares a distinctive word with the goal.
    """
    from coach.grounding import _card_words, distinctive_words

    if not goals:
        return []
    out = []
    for goal, hits in zip(goals, retriever.search_many(goals, k=5, domains=set(MENTOR_DOMAINS)), strict=True):
        words = distinctive_words(goal, retriever.kb.cards)
        close = bool(hits) and max((h.similarity or 0.0) for h in hits) >= GOAL_SERVED_SIMILARITY
        out.append(close and any(words & _card_words(h.card) for h in hits))
    return out
