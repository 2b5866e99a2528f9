"""Revise a plan: common edits offline, anything else through the model; either way the result is checked.

Offline edits understood (several may be joined with "and", commas or "then"):

- change a session's topic: "make session 3 about Teams", "change the topic of session 3 to phishing"
- change its length: "make session 3 30 minutes shorter", "session 2 to 60 minutes"
- change its date: "move session 2 to 2026-02-03", "move session 4 a week later"
- drop a session: "drop session 4"
- add a session: "add a session on dashboards" (goes before the closing session)
- compress after a cancellation: "session 3 was cancelled, compress the rest"

The edited plan must pass the plan checks, relaxed only where an edit legitimately changes the
pair's numbers (a session's length or date, the number of sessions); otherwise the edit is
refused with the reasons and the plan is left as it was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import re
import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from coach.errors import CoachError, InputError
from coach.models import (
    MENTOR_DOMAINS,
    PROGRAM_DOMAIN,
    SENIOR_DOMAINS,
    Cadence,
    Card,
    Citation,
    DiscussionPrompt,
    Mentee,
    Mentor,
    Pair,
    Plan,
    PlanTopic,
    Program,
    Session,
)

if TYPE_CHECKING:
    from coach.knowledge import KnowledgeBase
    from coach.providers import Provider
    from coach.retrieval import Retriever

EditKind = Literal["topic", "length", "date", "drop", "add", "cancel"]
MIN_MINUTES, MAX_MINUTES = 15, 180

OFFLINE_EXAMPLES = (
    "'make session 3 about Teams', 'make session 3 30 minutes shorter', 'move session 2 to 2026-02-03', "
    "'drop session 4', 'add a session on dashboards', 'session 3 was cancelled, compress the rest' "
    "(or set COACH_MODEL / --model for free-form edits)"
)


class RevisionRefused(CoachError):
    """The edit would break the plan's rules; the plan is unchanged."""

    def __init__(self, problems: list[str], detail: str = "") -> None:
        self.problems = problems
        head = "the edit was refused"
        if detail:
            head += f" ({detail})"
        super().__init__(f"{head}: " + "; ".join(problems))


@dataclass
class Edit:
    """One edit parsed from an instruction."""

    kind: EditKind
    session: int | None = None
    topic: str | None = None
    minutes: int | None = None
    delta: int | None = None
    date: dt.date | None = None
    days: int | None = None


@dataclass
class Revision:
    """A revised plan and what changed."""

    plan: Plan
    changes: list[str] = field(default_factory=list)
    engine: str = "offline"


# --------------------------------------------------------------------------- parsing

_SESSION = re.compile(r"\bsession\s*(?:#|no\.?|number)?\s*(\d+)\b")
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for m in names
}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH_RE})\.?(?:\s+(\d{{4}}))?\b")
_MONTH_DAY = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?\b")
_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4}
_SHIFT = re.compile(r"\b(a|an|one|two|three|four|\d+)\s+(week|day)s?\s+(later|earlier|sooner)\b")
_DELTA = re.compile(r"\b(\d+)\s*-?\s*(?:minutes?|mins?)\s+(shorter|longer|less|more)\b")
_DELTA_VERB = re.compile(
    r"\b(shorten|shorter|cut|reduce|trim|lengthen|longer|extend)\w*\b.*?\bby\s+(\d+)\s*-?\s*(?:minutes?|mins?)\b"
)
_ABSOLUTE = re.compile(r"\b(\d+)\s*-?\s*(?:minutes?|mins?)\b")
_CANCEL = re.compile(
    r"\bsession\s*(\d+)\s+(?:was|is|got|has\s+been|had\s+to\s+be)?\s*(?:cancell?ed|called\s+off|missed|skipped)"
    r"|\b(?:cancell?ed|missed|skipped|lost)\s+session\s*(\d+)"
)
_DROP = re.compile(r"\b(?:drop|remove|delete|cut)\b")
_ADD = re.compile(r"\badd\b(?:\s+(?:an?|one|another|one\s+more))?(?:\s+(?:extra|new|more))?\s+session")
_MOVE = re.compile(r"\b(?:move|reschedule|shift|push|bring)\b")
_TOPIC = re.compile(
    r"\b(?:topic\s+(?:of\s+session\s*\d+\s+)?(?:to|into|as)|about|cover(?:s|ing)?|focus(?:ed|ing)?\s+on|on"
    r"|(?:change|switch|swap|replace)\s+session\s*\d+(?:'s\s+topic)?\s+(?:to|for|with))\s+(.+)$",
)
_FILLER = re.compile(r"\b(?:instead|please|rather|too|as\s+well)\b|[.!?]+$")


def _parse_date(text: str, near: dt.date) -> dt.date | None:
    """A date written as 2026-02-03, 3 Feb, 3rd February 2026 or Feb 3; the year defaults near `near`."""
    try:
        if m := _ISO.search(text):
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if m := _DAY_MONTH.search(text):
            day, month, year = int(m.group(1)), _MONTHS[m.group(2)], m.group(3)
        elif m := _MONTH_DAY.search(text):
            month, day, year = _MONTHS[m.group(1)], int(m.group(2)), m.group(3)
        else:
            return None
        if year:
            return dt.date(int(year), month, day)
        # No year: the occurrence closest to the session's current date.
        options = [dt.date(near.year + k, month, day) for k in (-1, 0, 1)]
        return min(options, key=lambda d: abs((d - near).days))
    except ValueError:
        return None


def _clauses(text: str) -> list[str]:
    """Split on and/commas/then, re-joining pieces that are not edits by themselves ("Slack and Teams")."""
    pieces = [p.strip() for p in re.split(r",|;|\band\b|\bthen\b|\balso\b", text) if p.strip()]
    out: list[str] = []
    for piece in pieces:
        standalone = bool(
            _SESSION.search(piece)
            or _DELTA.search(piece)
            or _DELTA_VERB.search(piece)
            or _ABSOLUTE.search(piece)
            or _SHIFT.search(piece)
            or _ADD.search(piece)
            or _DROP.search(piece)
            or re.search(r"\bcompress\b|\bmake\b|\bchange\b|\bmove\b", piece)
        )
        if out and not standalone:
            out[-1] = f"{out[-1]} and {piece}"
        else:
            out.append(piece)
    return out


def parse_edits(instruction: str, plan: Plan) -> list[Edit]:
    """The edits in an instruction, in order; [] when the offline coach does not understand it."""
    text = _hours_to_minutes(" ".join(instruction.lower().split()))
    edits: list[Edit] = []
    current: int | None = None
    for clause in _clauses(text):
        if m := _SESSION.search(clause):
            current = int(m.group(1))
        if m := _CANCEL.search(clause):
            edits.append(Edit("cancel", session=int(m.group(1) or m.group(2))))
            continue
        if re.search(r"\bcompress\b", clause) and not _SESSION.search(clause):
            continue  # "compress the rest" goes with the cancellation already read
        if _ADD.search(clause):
            topic = _TOPIC.search(clause[_ADD.search(clause).end() :])  # type: ignore[union-attr]
            edits.append(Edit("add", topic=_clean(topic.group(1)) if topic else None))
            continue
        if _DROP.search(clause) and _SESSION.search(clause) and not _ABSOLUTE.search(clause):
            edits.append(Edit("drop", session=current))
            continue
        near = _session_date(plan, current)
        date = _parse_date(clause, near) if near else None
        if date is not None:
            edits.append(Edit("date", session=current, date=date))
            continue
        if m := _SHIFT.search(clause):
            count = _NUMBER_WORDS.get(m.group(1)) or int(m.group(1))
            days = count * (7 if m.group(2) == "week" else 1)
            edits.append(Edit("date", session=current, days=days if m.group(3) == "later" else -days))
            continue
        length: Edit | None = None
        if m := _DELTA.search(clause):
            sign = 1 if m.group(2) in {"longer", "more"} else -1
            length = Edit("length", session=current, delta=sign * int(m.group(1)))
        elif m := _DELTA_VERB.search(clause):
            sign = 1 if m.group(1) in {"lengthen", "longer", "extend"} else -1
            length = Edit("length", session=current, delta=sign * int(m.group(2)))
        elif m := _ABSOLUTE.search(clause):
            length = Edit("length", session=current, minutes=int(m.group(1)))
        # A topic may share the clause with a length: "make session 2 a 30-minute session about Teams".
        rest = _ABSOLUTE.sub(" ", _DELTA.sub(" ", clause))
        if (m := _TOPIC.search(rest)) and _clean(m.group(1)):
            edits.append(Edit("topic", session=current, topic=_clean(m.group(1))))
        if length is not None:
            edits.append(length)
    return edits


def _hours_to_minutes(text: str) -> str:
    """'half an hour' -> '30 minutes', 'an hour and a half' -> '90 minutes', '2 hours' -> '120 minutes'."""
    text = re.sub(r"\b(?:an?|one)\s+hour\s+and\s+a\s+half\b", "90 minutes", text)
    text = re.sub(r"\bhalf\s+an\s+hour\b", "30 minutes", text)
    text = re.sub(r"\b(?:an?|one)\s+hour\b", "60 minutes", text)
    return re.sub(r"\b(\d+)\s*hours?\b", lambda m: f"{int(m.group(1)) * 60} minutes", text)


def looks_like_edit(text: str) -> bool:
    """Whether a message reads as an edit to a plan ("make session 3 about Teams", "session 2 was cancelled")."""
    q = " ".join(text.lower().split())
    if not re.search(r"\bsession\s*\d+\b|\badd\s+(?:an?\s+|another\s+|one\s+more\s+)?session\b", q):
        return False
    verbs = r"\b(?:make|change|move|drop|remove|delete|add|shorten|lengthen|extend|reschedule|swap|replace|switch)\b"
    return bool(re.search(verbs, q) or _CANCEL.search(q) or _DELTA.search(q) or _SHIFT.search(q))


def _clean(text: str) -> str:
    text = _FILLER.sub("", text).strip(" .,'\"")
    text = re.sub(r"^(?:the\s+topic\s+of\s+|a\s+session\s+on\s+)", "", text)
    return " ".join(text.split())


def _session_date(plan: Plan, number: int | None) -> dt.date | None:
    if number is None or not 1 <= number <= len(plan.sessions):
        return plan.sessions[0].date if plan.sessions else None
    return plan.sessions[number - 1].date


# --------------------------------------------------------------------------- checks


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


# --------------------------------------------------------------------------- applying edits


class _Editor:
    """Applies offline edits to a working copy of the plan."""

    def __init__(self, plan: Plan, retriever: Retriever, pair: Pair | None) -> None:
        self.plan = plan.model_copy(deep=True)
        self.retriever = retriever
        self.kb = retriever.kb
        self.pair = pair_from_plan(plan, pair)
        self.changes: list[str] = []
        self._goal_hits: dict[int, set[str]] | None = None

    # ------------------------------------------------------------------ helpers

    def session(self, number: int | None, what: str) -> Session:
        n = len(self.plan.sessions)
        if number is None:
            raise InputError("INSTRUCTION", "instruction", f"which session to {what} (e.g. 'session 2'), none named")
        if not 1 <= number <= n:
            raise InputError("INSTRUCTION", "instruction", f"a session between 1 and {n}, got session {number}")
        return self.plan.sessions[number - 1]

    def fill(self, text: str) -> str:
        from coach.planner import fill

        return fill(text, self.pair)

    def cards_of(self, s: Session, domains: tuple[str, ...] | set[str]) -> list[Card]:
        return [c for t in s.topics if (c := self.kb.get(t.id)) is not None and c.domain in domains]

    def best_card(self, text: str, domains: tuple[str, ...]) -> Card:
        from coach.grounding import relevant

        cards = relevant(text, self.retriever, domains, k=5)
        if not cards:
            raise RevisionRefused([f"no teaching card in the knowledge base is about {text!r}"])
        return cards[0]

    def goals_served(self, cards: list[Card]) -> list[int]:
        """Goals (by index) for which one of the cards is among the best five matches."""
        if self._goal_hits is None:
            self._goal_hits = {}
            goals = self.pair.mentee.goals
            for gi, hits in enumerate(self.retriever.search_many(goals, k=5, domains=set(MENTOR_DOMAINS))):
                self._goal_hits[gi] = {h.card.id for h in hits}
        ids = {c.id for c in cards}
        return sorted(gi for gi, hit_ids in self._goal_hits.items() if ids & hit_ids)

    def rehome(self, goals: set[int], skip: Session | None = None) -> None:
        """Goals an edit took away from a session move to other sessions whose cards also serve them."""
        covered = {g for o in self.plan.sessions if o is not skip for g in o.goals}
        for g in sorted(goals - covered):
            for other in self.plan.sessions:
                if other is not skip and g in self.goals_served(self.cards_of(other, MENTOR_DOMAINS)):
                    other.goals = sorted({*other.goals, g})
                    break

    def renumber(self) -> None:
        for i, s in enumerate(self.plan.sessions):
            s.number = i + 1

    def used_prompts(self, skip: Session | None = None) -> set[str]:
        from coach.checks import normalise

        return {normalise(p.text) for s in self.plan.sessions if s is not skip for p in s.discussion_prompts}

    # ------------------------------------------------------------------ recomposing a session

    def recompose(self, s: Session, cards: list[Card], *, last: bool | None = None) -> None:
        """Give session `s` new mentor-taught cards, keeping its frame (kick-off, senior segment, wrap-up)."""
        from coach.checks import CLOSING_CARD, normalise
        from coach.planner import Block, fit_minutes

        old_cards = self.cards_of(s, MENTOR_DOMAINS)
        old_prefixes = (*tuple(f"{c.title} - " for c in old_cards), "Quick tour:")
        head: list[Block] = []
        tail: list[Block] = []
        seen_topic = False
        for a in s.agenda:
            if a.activity.startswith(old_prefixes):
                seen_topic = True
                continue
            optional = a.activity.startswith(("Introductions:", "Check-in:", "Wrap-up:"))
            (tail if seen_topic or a.lead == "mentee" else head).append(
                Block(a.activity, a.lead, float(a.minutes), not optional, 2)
            )
        taught_before = {t.id for other in self.plan.sessions if other.number < s.number for t in other.topics}
        topic_blocks: list[Block] = []
        for card in cards:
            acts = card.activities
            if card.id in taught_before:
                acts = [a for a in acts if a.format in {"hands-on", "exercise", "role-play"}] or acts
            for j, act in enumerate(acts):
                label = self.fill(f"{card.title} - {act.title}: {act.description}")
                topic_blocks.append(Block(label, act.lead, float(act.minutes), j == 0, 1 + j, topic=True))
        blocks = [*head, *topic_blocks, *tail]
        if len([b for b in blocks if b.mandatory]) > s.minutes // 2:
            tour = Block("Quick tour: " + ", ".join(c.title for c in cards), "mentor", 10, True)
            blocks = [*head, tour, *tail]
        s.agenda = fit_minutes(blocks, s.minutes)

        # Text that came from the old cards makes way for the new cards' text.
        def from_old(values: list[str], attr: str) -> set[str]:
            return {self.fill(v) for c in old_cards for v in getattr(c, attr)}

        old_obj = from_old(s.objectives, "objectives")
        keep_obj = [o for o in s.objectives if o not in old_obj]
        new_obj = [self.fill(o) for c in cards for o in c.objectives[:2]]
        at = next((i for i, o in enumerate(keep_obj) if " learns from " in o), len(keep_obj))
        if s.number == 1:
            at = max(at, min(2, len(keep_obj)))
        s.objectives = [*keep_obj[:at], *new_obj, *keep_obj[at:]]
        old_pre = from_old(s.pre_work, "pre_work")
        s.pre_work = [p for p in s.pre_work if p not in old_pre] + [self.fill(p) for c in cards for p in c.pre_work[:2]]

        old_prompt_texts = {normalise(self.fill(p.text)) for c in old_cards for p in c.discussion_prompts}
        old_titles = [c.title.lower() for c in old_cards]
        kept = [
            p
            for p in s.discussion_prompts
            if normalise(p.text) not in old_prompt_texts and not any(t in p.text.lower() for t in old_titles)
        ]
        used = self.used_prompts(skip=s) | {normalise(p.text) for p in kept}
        added: list[DiscussionPrompt] = []
        for card in cards:
            for p in card.discussion_prompts[:3]:
                key = normalise(self.fill(p.text))
                if key and key not in used:
                    used.add(key)
                    added.append(DiscussionPrompt(text=self.fill(p.text), asked_by=p.asked_by))
        s.discussion_prompts = added + kept
        mentor, mentee = self.plan.mentor.name, self.plan.mentee.name
        extra = [
            (f"{mentor}, where do you see {cards[0].title.lower()} used well by people in roles like mine?", "mentee"),
            (f"{mentee}, which part of {cards[0].title.lower()} would you like to practise next?", "mentor"),
        ]
        for text, by in extra:
            need = {"mentee", "both"} if by == "mentee" else {"mentor", "both"}
            if not any(p.asked_by in need for p in s.discussion_prompts) and normalise(text) not in used:
                s.discussion_prompts.append(DiscussionPrompt(text=text, asked_by=by))  # type: ignore[arg-type]

        old_joined = ", ".join(old_titles)
        new_joined = ", ".join(c.title.lower() for c in cards)
        s.reflection = [r.replace(old_joined, new_joined) if old_joined else r for r in s.reflection]

        program = [t for t in s.topics if t.domain == PROGRAM_DOMAIN and t.id != CLOSING_CARD]
        closing = [t for t in s.topics if t.id == CLOSING_CARD]
        senior = [t for t in s.topics if t.domain in SENIOR_DOMAINS]
        mentor_topics = [PlanTopic(id=c.id, title=c.title, domain=c.domain) for c in cards]
        s.topics = [*program, *mentor_topics, *senior, *closing]
        s.citations = [
            Citation(topic_id=t.id, source=found.source) for t in s.topics if (found := self.kb.get(t.id)) is not None
        ]
        before = set(s.goals)
        s.goals = self.goals_served(cards)
        self.rehome(before - set(s.goals), skip=s)
        is_last = s.number == len(self.plan.sessions) if last is None else last
        title = " & ".join(c.title for c in cards[:2]) + (f" (+{len(cards) - 2} more)" if len(cards) > 2 else "")
        if s.number == 1:
            title = f"Getting started: ground rules, goals and {cards[0].title.lower()}"
        if is_last and s.number != 1:
            title += ", then review and next steps"
        s.title = title

    def refit(self, s: Session, minutes: int) -> None:
        """Change a session's length, re-timing its agenda (short extras go first when time is tight)."""
        from coach.planner import Block, fit_minutes

        titles = tuple(f"{c.title} - " for c in self.cards_of(s, MENTOR_DOMAINS))
        firsts: set[str] = set()
        blocks = []
        for a in s.agenda:
            prefix = next((t for t in titles if a.activity.startswith(t)), None)
            if prefix is not None:
                mandatory = prefix not in firsts
                firsts.add(prefix)
            else:
                mandatory = not a.activity.startswith(("Introductions:", "Check-in:", "Wrap-up:"))
            blocks.append(Block(a.activity, a.lead, float(a.minutes), mandatory, 1, topic=prefix is not None))
        s.minutes = minutes
        s.agenda = fit_minutes(blocks, minutes)

    # ------------------------------------------------------------------ the edits

    def apply(self, edit: Edit) -> None:
        getattr(self, f"_{edit.kind}")(edit)

    def _topic(self, e: Edit) -> None:
        s = self.session(e.session, "change")
        assert e.topic
        card = self.best_card(e.topic, MENTOR_DOMAINS)
        before = ", ".join(c.id for c in self.cards_of(s, MENTOR_DOMAINS)) or "none"
        self.recompose(s, [card])
        self.changes.append(f"session {s.number}: topic {before} -> {card.id} ({card.title})")

    def _length(self, e: Edit) -> None:
        s = self.session(e.session, "change")
        new = e.minutes if e.minutes is not None else s.minutes + (e.delta or 0)
        if not MIN_MINUTES <= new <= MAX_MINUTES:
            raise RevisionRefused(
                [f"session {s.number} would be {new} minutes; sessions run {MIN_MINUTES}-{MAX_MINUTES}"]
            )
        old = s.minutes
        self.refit(s, new)
        self.changes.append(f"session {s.number}: {old} -> {new} minutes")

    def _date(self, e: Edit) -> None:
        s = self.session(e.session, "move")
        new = e.date if e.date is not None else s.date + dt.timedelta(days=e.days or 0)
        old = s.date
        s.date = new
        self.changes.append(f"session {s.number}: {old.isoformat()} -> {new.isoformat()}")

    def _drop(self, e: Edit) -> None:
        s = self.session(e.session, "drop")
        n = len(self.plan.sessions)
        if n == 1:
            raise RevisionRefused(["a plan needs at least one session"])
        if s.number == 1:
            raise RevisionRefused(
                [
                    "session 1 holds the kick-off (ground rules and goals); change its topic or date instead of dropping it"
                ]
            )
        self.plan.sessions.remove(s)
        if s.number == n:  # the closing review moves to the new last session
            self._make_closing(self.plan.sessions[-1])
        self.rehome(set(s.goals))
        orphaned = set(s.goals) - {g for o in self.plan.sessions for g in o.goals}
        self.renumber()
        self.changes.append(f"dropped session {s.number} ({s.title})")
        if orphaned:
            names = "; ".join(repr(self.pair.mentee.goals[g]) for g in sorted(orphaned))
            raise RevisionRefused([f"dropping session {s.number} leaves no session for goal {names}"])

    def _make_closing(self, s: Session) -> None:
        from coach.checks import CLOSING_CARD
        from coach.planner import Block, fit_minutes

        closing = self.kb.get(CLOSING_CARD)
        if closing is None:
            raise RevisionRefused([f"the knowledge base has no {CLOSING_CARD} card for the closing review"])
        act = closing.activities[0]
        blocks = [
            Block(a.activity, a.lead, float(a.minutes), not a.activity.startswith(("Check-in:",)), 1)
            for a in s.agenda
            if not a.activity.startswith("Wrap-up:")
        ]
        blocks.append(Block(f"Review of progress and next steps: {act.description}", "both", float(act.minutes), True))
        s.agenda = fit_minutes(blocks, s.minutes)
        s.topics.append(PlanTopic(id=closing.id, title=closing.title, domain=closing.domain))
        s.citations.append(Citation(topic_id=closing.id, source=closing.source))
        s.objectives.append("Review progress against the goals and agree next steps")
        mentor, mentee = self.plan.mentor.name, self.plan.mentee.name
        s.discussion_prompts.append(
            DiscussionPrompt(
                text=f"{mentor} and {mentee}: what will each of you keep doing after the program?", asked_by="both"
            )
        )
        s.reflection = [
            f"{mentee}: what changed in how you work since session 1?",
            f"{mentor}: what did you learn about leading and strategy from {mentee}?",
            "Both: continue, change the focus, or close the pairing?",
        ]
        if not s.title.endswith("then review and next steps"):
            s.title += ", then review and next steps"

    def _add(self, e: Edit) -> None:
        from coach.checks import session_date

        used = {t.id for s in self.plan.sessions for t in s.topics}
        card: Card | None
        if e.topic:
            card = self.best_card(e.topic, MENTOR_DOMAINS)
        else:
            card = next(
                (
                    h.card
                    for hits in self.retriever.search_many(self.pair.mentee.goals, k=10, domains=set(MENTOR_DOMAINS))
                    for h in hits
                    if h.card.id not in used
                ),
                None,
            )
            if card is None:
                raise RevisionRefused(["every card that matches the goals is already in the plan; name a topic to add"])
        last = self.plan.sessions[-1]
        cadence = infer_cadence(self.plan)
        new_last_date = session_date(last.date, cadence, 1)
        template = next((s for s in reversed(self.plan.sessions[:-1]) if s.number != 1), None)
        senior = self._senior_for(card)
        if template is not None:
            new = template.model_copy(deep=True)
            new.topics = [t for t in new.topics if t.domain in MENTOR_DOMAINS] + [
                PlanTopic(id=senior.id, title=senior.title, domain=senior.domain)
            ]
            # The senior segment follows the chosen senior card.
            new.agenda = [
                a.model_copy(update={"activity": self._senior_activity(senior)}) if a.lead == "mentee" else a
                for a in new.agenda
            ]
            new.objectives = [o for o in new.objectives if " learns from " not in o] + [
                f"{self.plan.mentor.name} learns from {self.plan.mentee.name}: {self.fill(senior.objectives[0])}"
            ]
            new.discussion_prompts = []
        else:
            raise RevisionRefused(["a plan needs at least three sessions before one can be added in the middle"])
        new.number = last.number
        new.date = last.date
        new.reflection = [
            f"{self.plan.mentee.name}: one thing to try before the next session ({self._titles(new)})",
            "Both: rate this session 1-5 and say what to change next time",
        ]
        self.plan.sessions.insert(len(self.plan.sessions) - 1, new)
        self.renumber()
        self.plan.sessions[-1].date = new_last_date
        self.recompose(new, [card], last=False)
        self.changes.append(
            f"added session {new.number} on {card.title} [{card.id}] on {new.date.isoformat()}; "
            f"the closing session moves to {new_last_date.isoformat()}"
        )

    def _titles(self, s: Session) -> str:
        return ", ".join(c.title.lower() for c in self.cards_of(s, MENTOR_DOMAINS))

    def _senior_for(self, card: Card) -> Card:
        counts: dict[str, int] = {}
        for s in self.plan.sessions:
            for t in s.topics:
                if t.domain in SENIOR_DOMAINS:
                    counts[t.id] = counts.get(t.id, 0) + 1
        hits = self.retriever.search(f"{self.plan.mentee.role}: {card.title}", k=10, domains=set(SENIOR_DOMAINS))
        if not hits:
            raise RevisionRefused(["no senior-taught card to pair with the new session"])
        return min(enumerate(hits), key=lambda ih: (counts.get(ih[1].card.id, 0), ih[0]))[1].card  # type: ignore[no-any-return]

    def _senior_activity(self, senior: Card) -> str:
        acts = [a for a in senior.activities if a.lead == "mentee"] or senior.activities
        act = acts[0]
        return f"{self.plan.mentee.name} leads ({senior.title}): {act.title}: {act.description}"

    def _cancel(self, e: Edit) -> None:
        from coach.cohort import replan
        from coach.store import LoggedSession, utcnow

        s = self.session(e.session, "cancel")
        n = len(self.plan.sessions)
        if s.number == n:
            raise RevisionRefused(
                [f"session {n} was the last one, so no later session can take its topics; add a session instead"]
            )
        if s.number == 1:
            raise RevisionRefused(["session 1 is the kick-off; move its date instead of compressing it away"])
        status: dict[int, Any] = {}
        for other in self.plan.sessions:
            if other.number < s.number:
                st = "held"
            elif other.number == s.number:
                st = "cancelled"
            else:
                continue
            status[other.number] = LoggedSession(
                id=0, number=other.number, status=st, date=other.date, notes="", created_at=utcnow()
            )
        new, _ = replan(self.plan, self.pair, status, self.kb, today=s.date)
        self.plan = new
        self.renumber()
        later = len(self.plan.sessions) - s.number + 1
        self.changes.append(
            f"session {s.number} ({s.date.isoformat()}) was cancelled; its topics moved into the {later} "
            f"session{'s' if later > 1 else ''} after it, now numbered {s.number}-{len(self.plan.sessions)}"
        )


def load_plan_file(path: str) -> Plan:
    """Read a plan JSON file written by `coach plan --format json`."""
    import json
    from pathlib import Path

    from pydantic import ValidationError

    from coach.errors import from_validation

    p = Path(path)
    if not p.is_file():
        raise InputError(path, "--plan", "a plan JSON file (from `coach plan --format json`), but it does not exist")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(path, "", f"expected plan JSON ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise InputError(path, "", "expected a JSON object with mentor, mentee and sessions")
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        raise from_validation(path, exc) from None
    if not plan.sessions:
        raise InputError(path, "sessions", "at least one session")
    return plan


def revise_offline(plan: Plan, instruction: str, retriever: Retriever, pair: Pair | None = None) -> Revision:
    """Apply the edits the offline coach understands; raises InputError when it understands none."""
    edits = parse_edits(instruction, plan)
    if not edits:
        raise InputError(
            "INSTRUCTION", "instruction", f"an edit the offline coach understands, such as {OFFLINE_EXAMPLES}"
        )
    editor = _Editor(plan, retriever, pair)
    for edit in edits:
        editor.apply(edit)
    problems = new_problems(plan, editor.plan, retriever.kb, pair)
    if problems:
        raise RevisionRefused(problems)
    stamp = f"Revised offline: {instruction.strip()}"
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
    if not instruction.strip():
        raise InputError("INSTRUCTION", "instruction", "a description of the change, e.g. " + OFFLINE_EXAMPLES)
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
