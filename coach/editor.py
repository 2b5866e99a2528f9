"""Applying parsed edits (topic, length, date, drop, add, cancel) to a working copy of a plan."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from coach.errors import InputError
from coach.instructions import Edit
from coach.models import (
    MENTOR_DOMAINS,
    PROGRAM_DOMAIN,
    SENIOR_DOMAINS,
    Card,
    Citation,
    DiscussionPrompt,
    Pair,
    Plan,
    PlanTopic,
    Session,
)
from coach.revision_checks import MAX_MINUTES, MIN_MINUTES, RevisionRefused, infer_cadence, pair_from_plan

if TYPE_CHECKING:
    from coach.retrieval import Retriever


class Editor:
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
        from coach.replan import replan
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
