"""Applying parsed edits (topic, length, date, drop, add, cancel) to a working copy of a plan."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from coach.errors import InputError
from coach.instructions import TOPIC_STOP_WORDS as _STOP
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
from coach.wording import learns, pre_work_line

if TYPE_CHECKING:
    from coach.retrieval import Retriever


def _topic_block(activity: str, cards: list[Card], fill: Any) -> bool:
    """Whether an agenda block teaches one of the cards (runs one of their activities, or tours them)."""
    from coach.checks import normalise

    if activity.startswith(("Quick tour", *(f"{c.title} - " for c in cards))):
        return True
    text = normalise(activity)
    return any((d := normalise(fill(a.description))) and d in text for c in cards for a in c.activities) or any(
        (m := normalise(k.meaning)) and m in text for c in cards for k in c.key_concepts
    )


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
            example = {
                "change": "make session 2 about Teams",
                "move": "move session 3 to 14 Feb",
                "swap": "swap sessions 2 and 3",
                "drop": "drop session 4",
                "cancel": "session 3 was cancelled",
            }.get(what, "make session 2 about Teams")
            raise InputError(
                "INSTRUCTION",
                "instruction",
                f"the number of the session to {what}, for example '{example}' (no session was named)",
            )
        if not 1 <= number <= n:
            raise InputError("INSTRUCTION", "instruction", f"a session between 1 and {n}, got session {number}")
        return self.plan.sessions[number - 1]

    def fill(self, text: str) -> str:
        from coach.planner import fill

        return fill(text, self.pair)

    def pre_work(self, text: str) -> str:
        """A card's pre-work line as the plan writes it ("Robert Klein: note ...")."""
        return pre_work_line(self.fill(text), self.pair.mentor.name, self.pair.mentee.name)

    def cards_of(self, s: Session, domains: tuple[str, ...] | set[str]) -> list[Card]:
        return [c for t in s.topics if (c := self.kb.get(t.id)) is not None and c.domain in domains]

    def best_card(self, text: str, domains: tuple[str, ...]) -> Card:
        """The card an instruction names: by words of a card's title or tags first ("Teams", "Excel", "TikTok"),
        then by meaning; refused with words that would work when nothing matches."""
        from coach.grounding import relevant

        pool = [c for c in self.kb.cards if c.domain in domains]
        words = [w for w in re.findall(r"[a-z0-9][a-z0-9+#']*", text.lower()) if w not in _STOP and len(w) > 1]
        if words:
            ranked = {
                h.card.id: r for r, h in enumerate(self.retriever.search(text, k=len(pool), domains=set(domains)))
            }

            def score(card: Card) -> tuple[int, int]:
                title = set(re.findall(r"[a-z0-9+#']+", card.title.lower()))
                tags = {t.lower() for t in card.tags} | {
                    w for t in card.tags for w in re.findall(r"[a-z0-9+#']+", t.lower())
                }
                hits = sum(
                    3 if w in title or w.rstrip("s") in title else 1 if w in tags or w.rstrip("s") in tags else 0
                    for w in words
                )
                return hits, -ranked.get(card.id, len(pool))

            best = max(pool, key=score)
            if score(best)[0] >= 3 or (score(best)[0] and len(words) == 1):
                return best
        cards = relevant(text, self.retriever, domains, k=5)
        if cards:
            return cards[0]
        raise RevisionRefused(
            [
                f"no teaching card in the knowledge base is about {text!r}; name a topic with a word from a card's "
                "title, such as 'Teams', 'Excel', 'phishing', 'dashboards' or 'TikTok' (the Knowledge tab and "
                "`coach kb list` show every card)"
            ]
        )

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

    def readable(self, text: str) -> str:
        """A check message with card ids replaced by their titles."""
        import re as _re

        def title(m: _re.Match[str]) -> str:
            card = self.kb.get(m.group(1))
            return f"“{card.title}”" if card else m.group(0)

        return _re.sub(r"'([a-z0-9]+(?:-[a-z0-9]+)+)'", title, text)

    def renumber(self) -> None:
        for i, s in enumerate(self.plan.sessions):
            s.number = i + 1

    def used_prompts(self, skip: Session | None = None) -> set[str]:
        from coach.checks import normalise

        return {normalise(p.text) for s in self.plan.sessions if s is not skip for p in s.discussion_prompts}

    def used_activities(self, skip: Session | None = None) -> set[tuple[str, int]]:
        """Card activities (card id, index) that sessions other than `skip` already run."""
        from coach.checks import activity_uses

        uses = activity_uses(self.plan, self.kb)
        return {key for s, found in zip(self.plan.sessions, uses, strict=True) if s is not skip for key in found}

    # ------------------------------------------------------------------ recomposing a session

    def recompose(self, s: Session, cards: list[Card], *, last: bool | None = None) -> None:
        """Give session `s` new mentor-taught cards, keeping its frame (kick-off, senior segment, wrap-up)."""
        from coach.checks import CLOSING_CARD, normalise
        from coach.planner import Block, _activities, fit_minutes
        from coach.wording import agenda_line, main_idea, mid_sentence, proper_words, session_title

        proper = proper_words(self.kb)
        old_cards = self.cards_of(s, MENTOR_DOMAINS)
        head: list[Block] = []
        tail: list[Block] = []
        seen_topic = False
        for a in s.agenda:
            if _topic_block(a.activity, old_cards, self.fill):
                seen_topic = True
                continue
            optional = a.activity.startswith(("Introductions:", "Check-in:", "Wrap-up:"))
            (tail if seen_topic or a.lead == "mentee" else head).append(
                Block(a.activity, a.lead, float(a.minutes), not optional, 2)
            )
        taught_before = {t.id for other in self.plan.sessions if other.number < s.number for t in other.topics}
        used_acts = self.used_activities(skip=s)
        topic_blocks: list[Block] = []
        for card in cards:
            chosen = _activities(card, used_acts, 0, card.id in taught_before)
            if not chosen:
                from coach.planner import practice_line

                rounds = sum(1 for o in self.plan.sessions if o is not s for t in o.topics if t.id == card.id)
                topic_blocks.append(Block(practice_line(card, rounds, self.pair), "mentee", 10, True, 1, topic=True))
            for j, (_, act) in enumerate(chosen):
                label = agenda_line(act.title, self.fill(act.description))
                topic_blocks.append(Block(label, act.lead, float(act.minutes), j == 0, 1 + j, topic=True))
        blocks = [*head, *topic_blocks, *tail]
        if len([b for b in blocks if b.mandatory]) > s.minutes // 2:
            ideas_text = ", ".join(mid_sentence(main_idea(c), proper) for c in cards)
            tour = Block("Quick tour of " + ideas_text, "mentor", 10, True)
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
        old_pre |= {self.pre_work(v) for v in old_pre}
        s.pre_work = [p for p in s.pre_work if p not in old_pre] + [
            self.pre_work(p) for c in cards for p in c.pre_work[:2]
        ]

        old_prompt_texts = {normalise(self.fill(p.text)) for c in old_cards for p in c.discussion_prompts}
        old_titles = [c.title.lower() for c in old_cards] + [main_idea(c).lower() for c in old_cards]
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
        idea = mid_sentence(main_idea(cards[0]), proper)
        extra = [
            (f"{mentor}, where do you see {idea} used well by people in roles like mine?", "mentee"),
            (f"{mentee}, which part of {idea} would you like to practise next?", "mentor"),
        ]
        for text, by in extra:
            need = {"mentee", "both"} if by == "mentee" else {"mentor", "both"}
            if not any(p.asked_by in need for p in s.discussion_prompts) and normalise(text) not in used:
                s.discussion_prompts.append(DiscussionPrompt(text=text, asked_by=by))  # type: ignore[arg-type]

        if old_cards:
            old_idea = mid_sentence(main_idea(old_cards[0]), proper)
            old_joined = ", ".join(c.title.lower() for c in old_cards)
            s.reflection = [r.replace(old_idea, idea).replace(old_joined, idea) for r in s.reflection]

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
        ideas = [main_idea(c) for c in cards]
        s.title = session_title(ideas, proper, first=s.number == 1, last=is_last, practice=False)

    def refit(self, s: Session, minutes: int) -> None:
        """Change a session's length, re-timing its agenda (short extras go first when time is tight)."""
        from coach.planner import Block, fit_minutes

        cards = self.cards_of(s, MENTOR_DOMAINS)
        firsts: set[str] = set()
        blocks = []
        for a in s.agenda:
            owner = next((c.id for c in cards if _topic_block(a.activity, [c], self.fill)), None)
            if owner is not None:
                mandatory = owner not in firsts
                firsts.add(owner)
            else:
                mandatory = not a.activity.startswith(("Introductions:", "Check-in:", "Wrap-up:"))
            blocks.append(Block(a.activity, a.lead, float(a.minutes), mandatory, 1, topic=owner is not None))
        s.minutes = minutes
        s.agenda = fit_minutes(blocks, minutes)

    # ------------------------------------------------------------------ the edits

    def apply(self, edit: Edit) -> None:
        getattr(self, f"_{edit.kind}")(edit)

    def _topic(self, e: Edit) -> None:
        s = self.session(e.session, "change")
        assert e.topic
        card = self.best_card(e.topic, MENTOR_DOMAINS)
        before = "; ".join(c.title for c in self.cards_of(s, MENTOR_DOMAINS)) or "no teaching topic"
        self.recompose(s, [card])
        self.changes.append(f"session {s.number} is now about {card.title} (was: {before})")
        self._say_goals(s)

    def _say_goals(self, s: Session) -> None:
        """A session whose topic serves none of the goals is allowed (the pair chose it), and said."""
        if not s.goals and s.number != 1:
            self.changes.append(
                f"session {s.number} serves none of {self.plan.mentee.name}'s goals, so it does not count "
                "towards them in 'How we will know it worked'"
            )

    def _length(self, e: Edit) -> None:
        s = self.session(e.session, "change")
        new = e.minutes if e.minutes is not None else s.minutes + (e.delta or 0)
        if not MIN_MINUTES <= new <= MAX_MINUTES:
            raise RevisionRefused(
                [f"session {s.number} would be {new} minutes; sessions run {MIN_MINUTES}-{MAX_MINUTES}"]
            )
        old = s.minutes
        self.refit(s, new)
        self.changes.append(f"session {s.number} now runs {new} minutes (was {old})")

    def _date(self, e: Edit) -> None:
        s = self.session(e.session, "move")
        new = e.date if e.date is not None else s.date + dt.timedelta(days=e.days or 0)
        old = s.date
        s.date = new
        if new == old:
            self.changes.append(f"session {s.number} is already on {new:%a %d %b %Y}; its date stays")
            return
        weekend = f" (a {new:%A}: check that suits you both)" if new.weekday() >= 5 else ""
        self.changes.append(f"session {s.number} moves from {old:%a %d %b %Y} to {new:%a %d %b %Y}{weekend}")

    def _shift(self, e: Edit) -> None:
        first = self.session(e.session or 1, "move")
        end = self.session(e.other, "move").number if e.other is not None else len(self.plan.sessions)
        if end < first.number:
            raise RevisionRefused([f"name the sessions to move in order, such as 'sessions {end}-{first.number}'"])
        days = e.days or 0
        moved = [s for s in self.plan.sessions if first.number <= s.number <= end]
        for s in moved:
            s.date = s.date + dt.timedelta(days=days)
        way = "later" if days > 0 else "earlier"
        amount = _amount(abs(days))
        if len(moved) == len(self.plan.sessions):
            span = "every session moves"
        elif len(moved) == 1:
            span = f"session {first.number} moves"
        else:
            span = f"sessions {first.number}-{end} move"
        self.changes.append(
            f"{span} {amount} {way}: session {first.number} is now on {first.date:%a %d %b %Y}"
            + (f", session {end} on {moved[-1].date:%a %d %b %Y}" if len(moved) > 1 else "")
        )

    def _swap(self, e: Edit) -> None:
        a, b = self.session(e.session, "swap"), self.session(e.other, "swap")
        if a is b:
            raise RevisionRefused(
                [f"name two different sessions to swap, such as 'swap sessions 2 and {a.number + 1}'"]
            )
        cards_a, cards_b = self.cards_of(a, MENTOR_DOMAINS), self.cards_of(b, MENTOR_DOMAINS)
        if not cards_a or not cards_b:
            raise RevisionRefused(["both sessions need a teaching topic to swap; change a topic instead"])
        self.recompose(a, cards_b)
        self.recompose(b, cards_a)
        self.changes.append(
            f"sessions {a.number} and {b.number} swap topics: session {a.number} is now about "
            f"{'; '.join(c.title for c in cards_b)}, session {b.number} about {'; '.join(c.title for c in cards_a)}"
        )

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
            self.changes.append(f"the closing review of progress moves into session {n - 1}, now the last")
        self.rehome(set(s.goals))
        orphaned = set(s.goals) - {g for o in self.plan.sessions for g in o.goals}
        self.renumber()
        self.changes.append(f"dropped session {s.number} ({s.title}); later sessions move up one number")
        if orphaned:
            names = "; ".join(repr(self.pair.mentee.goals[g]) for g in sorted(orphaned))
            raise RevisionRefused([f"dropping session {s.number} leaves no session for goal {names}"])

    def say_gaps(self) -> None:
        """After a drop, later sessions keep their dates (invitations may be out): name the gaps that leaves."""
        from itertools import pairwise

        steps = [(a, b, (b.date - a.date).days) for a, b in pairwise(self.plan.sessions)]
        usual = min((d for _, _, d in steps if d > 0), default=0)
        for before, after, gap in steps:
            if usual and gap > usual:
                close = f"move session {after.number} and the rest {_amount(gap - usual)} earlier"
                self.changes.append(
                    f"the dates stay as booked, so {_amount(gap)} pass between session {before.number} "
                    f"({before.date:%a %d %b %Y}) and session {after.number} ({after.date:%a %d %b %Y})"
                    + (f"; to close the gap, say '{close}'" if (gap - usual) % 7 == 0 else "")
                )

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
                text=f"{mentor} and {mentee}, what will each of you keep doing after the program?", asked_by="both"
            )
        )
        s.reflection = [
            f"{mentee}: what changed in how you work since session 1?",
            f"{mentor}: what did you learn about leading and strategy from {mentee}?",
            "Both: continue, change the focus, or close the pairing?",
        ]
        from coach.wording import main_idea, proper_words, session_title

        ideas = [main_idea(c) for c in self.cards_of(s, MENTOR_DOMAINS)]
        s.title = session_title(ideas, proper_words(self.kb), first=s.number == 1, last=True, practice=False)

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
            # Only the senior's own segment changes (mentee-led blocks of the teaching cards stay for recompose).
            taught = self.cards_of(new, MENTOR_DOMAINS)
            segment = self._senior_activity(senior)
            new.agenda = [
                a.model_copy(update={"activity": segment})
                if a.lead == "mentee" and not _topic_block(a.activity, taught, self.fill)
                else a
                for a in new.agenda
            ]
            new.objectives = [o for o in new.objectives if " learns from " not in o] + [
                learns(self.plan.mentor.name, self.fill(senior.objectives[0]), self.plan.mentee.name)
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
            f"added session {new.number} on {card.title} on {new.date:%a %d %b %Y}; "
            f"the closing session moves to {new_last_date:%a %d %b %Y}"
        )
        self._say_goals(new)

    def _titles(self, s: Session) -> str:
        from coach.wording import main_idea, mid_sentence, proper_words

        return ", ".join(mid_sentence(main_idea(c), proper_words(self.kb)) for c in self.cards_of(s, MENTOR_DOMAINS))

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
        """The senior's segment from a senior card: an activity no session runs yet, else one of its concepts."""
        from coach.planner import senior_activity

        used = self.used_activities()
        acts = [a for a in senior.activities if a.lead == "mentee"] or senior.activities
        fresh = [k for k, a in enumerate(acts) if (senior.id, senior.activities.index(a)) not in used]
        occurrence = fresh[0] if fresh else len(acts) + sum(1 for key in used if key[0] == senior.id)
        return self.fill(senior_activity(senior, occurrence)[0])

    def _merge_repeats(self) -> None:
        """A card activity a merged session would run twice runs once, with the minutes of both."""
        from coach.checks import normalise

        for s in self.plan.sessions:
            cards = [c for t in s.topics if (c := self.kb.get(t.id)) is not None]
            descs = [
                ((c.id, j), d)
                for c in cards
                for j, a in enumerate(c.activities)
                if (d := normalise(self.fill(a.description)))
            ]
            first: dict[tuple[str, int], Any] = {}
            kept: list[Any] = []
            for a in s.agenda:
                text = normalise(a.activity)
                keys = [key for key, d in descs if d in text]
                twin = next((first[k] for k in keys if k in first), None)
                if twin is not None:
                    twin.minutes += a.minutes
                    continue
                for k in keys:
                    first[k] = a
                kept.append(a)
            s.agenda = kept

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
        self._merge_repeats()
        later = len(self.plan.sessions) - s.number + 1
        self.changes.append(
            f"session {s.number} ({s.date.isoformat()}) was cancelled; its topics moved into the {later} "
            f"session{'s' if later > 1 else ''} after it, now numbered {s.number}-{len(self.plan.sessions)}"
        )


def _amount(days: int) -> str:
    """Days as people say them: "2 weeks", "1 week", "10 days"."""
    if days % 7:
        return f"{days} day{'s' if days != 1 else ''}"
    return f"{days // 7} week{'s' if days != 7 else ''}"
