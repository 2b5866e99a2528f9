"""The chat's offline answers, composed from the plan and the cards and cited: briefing, lesson, explain and more."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from coach.grounding import relevant
from coach.intents import Intent, classify
from coach.models import MENTOR_DOMAINS, PROGRAM_DOMAIN, SENIOR_DOMAINS, Card, Pair, Plan, Session

if TYPE_CHECKING:
    from coach.providers import Provider
    from coach.retrieval import Retriever

CANCELLATIONS_CARD = "program-handling-cancellations"


@dataclass
class ChatContext:
    """What the chat knows: the cards (through the retriever), and optionally the pair and its plan."""

    retriever: Retriever
    pair: Pair | None = None
    plan: Plan | None = None
    role: str = "mentee"


@dataclass
class Answer:
    """A finished answer."""

    intent: str
    text: str
    cards: list[str] = field(default_factory=list)
    covered: bool = True
    engine: str = "offline"
    note: str | None = None
    plan: Plan | None = None

    def as_json(self) -> dict[str, Any]:
        """The JSON form printed by `coach ask --format json`."""
        return {
            "intent": self.intent,
            "answer": self.text,
            "cards": self.cards,
            "covered": self.covered,
            "engine": self.engine,
            "note": self.note,
        }


# --------------------------------------------------------------------------- grounding


def _cite(card: Card) -> str:
    return f"[{card.id}]"


def _first_sentences(text: str, n: int = 2) -> str:
    parts = re.split(r"(?<=[.!?])\s+", " ".join(text.split()))
    return " ".join(parts[:n])


class _Filler:
    """Fills card placeholders ({mentor}, {mentee}, {mentee_role}...) from the pair, the plan or neutral words."""

    def __init__(self, ctx: ChatContext, audience: str | None = None) -> None:
        mentor = mentee = None
        mentor_role = mentee_role = None
        if ctx.pair is not None:
            mentor, mentee = ctx.pair.mentor.name, ctx.pair.mentee.name
            mentor_role, mentee_role = ctx.pair.mentor.role, ctx.pair.mentee.role
        elif ctx.plan is not None:
            mentor, mentee = ctx.plan.mentor.name, ctx.plan.mentee.name
            mentor_role, mentee_role = ctx.plan.mentor.role, ctx.plan.mentee.role
        self.values = {
            "{mentor}": mentor or "the mentor",
            "{mentee}": mentee or (f"the {audience}" if audience else "the senior leader"),
            "{mentor_role}": mentor_role or "junior colleague",
            "{mentee_role}": audience or mentee_role or "senior leader",
        }

    def __call__(self, text: str) -> str:
        for k, v in self.values.items():
            text = text.replace(k, v)
        return " ".join(text.split())


# --------------------------------------------------------------------------- offline answers


def compose(question: str, ctx: ChatContext, intent: Intent | None = None) -> Answer:
    """The offline answer: composed from the plan and the cards, cited."""
    intent = intent or classify(question, ctx.plan is not None)
    handler = {
        "instructions": _instructions,
        "revise": _revise,
        "briefing": _briefing,
        "lesson": _lesson,
        "cancellations": _cancellations,
        "explain": _explain,
        "general": _general,
    }[intent.kind]
    return handler(question, ctx, intent)


def _instructions(question: str, ctx: ChatContext, intent: Intent) -> Answer:
    text = (
        "I can't share or change my instructions. I can prepare you for a session, give you a timed lesson "
        "on a topic, explain a term simply, suggest what to do about cancellations, or revise your plan."
    )
    return Answer("instructions", text, [], covered=True)


def _not_covered(question: str, ctx: ChatContext, intent: str, topic: str | None = None) -> Answer:
    from coach.models import DOMAINS

    about = f" about {topic!r}" if topic else ""
    text = (
        f"The knowledge base has no card{about}, so I won't guess. The cards cover: "
        + ", ".join(d.replace("-", " ") for d in DOMAINS)
        + ". Try asking about one of these, or add a card of your own with --kb."
    )
    return Answer(intent, text, [], covered=False)


def _revise(question: str, ctx: ChatContext, intent: Intent) -> Answer:
    return revise_answer(question, ctx)


def revise_answer(question: str, ctx: ChatContext, provider: Provider | None = None) -> Answer:
    """Apply an edit asked for in chat (through the model when one is given); the result is checked."""
    from coach.errors import InputError
    from coach.revise import RevisionRefused, revise

    assert ctx.plan is not None
    try:
        result = revise(ctx.plan, question, ctx.retriever, ctx.pair, provider)
    except RevisionRefused as exc:
        return Answer("revise", f"I can't make that change: {'; '.join(exc.problems)}. The plan is unchanged.", [])
    except InputError as exc:  # not an edit the offline coach understands
        return Answer("revise", f"I couldn't read that as an edit: {exc.expected}", [], covered=False)
    new_ids = {t.id for s in result.plan.sessions for t in s.topics} - {
        t.id for s in ctx.plan.sessions for t in s.topics
    }
    lines = ["Done. The revised plan passes every check:"] + [f"- {c}" for c in result.changes]
    cards = sorted(new_ids)
    if cards:
        lines.append("Cards now used: " + " ".join(f"[{c}]" for c in cards))
    lines.append('Save it with `coach revise --plan FILE "..." --out FILE`.')
    return Answer("revise", "\n".join(lines), cards, engine=result.engine, plan=result.plan)


def _session_for(ctx: ChatContext, intent: Intent) -> tuple[Plan | None, Session | None, str | None]:
    """The plan and the session a briefing is about (building the offline plan from the pair if needed)."""
    import datetime as dt

    plan = ctx.plan
    if plan is None and ctx.pair is not None:
        from coach.planner import build_plan

        plan = build_plan(ctx.pair, ctx.retriever)
    if plan is None:
        return None, None, "I need your plan (--plan FILE) or your pair file (--pair FILE) to brief you on a session."
    number = intent.session
    if number is None:
        today = dt.date.today()
        number = next((s.number for s in plan.sessions if s.date >= today), plan.sessions[-1].number)
    if not 1 <= number <= len(plan.sessions):
        return plan, None, f"Your plan has sessions 1 to {len(plan.sessions)}; there is no session {number}."
    return plan, plan.sessions[number - 1], None


def _briefing(question: str, ctx: ChatContext, intent: Intent) -> Answer:
    plan, s, problem = _session_for(ctx, intent)
    if problem or plan is None or s is None:
        return Answer("briefing", problem or "No such session.", [], covered=False)
    kb = ctx.retriever.kb
    fill = _Filler(ChatContext(ctx.retriever, ctx.pair, plan, ctx.role))
    teach = [c for t in s.topics if (c := kb.get(t.id)) and c.domain in MENTOR_DOMAINS]
    senior = [c for t in s.topics if (c := kb.get(t.id)) and c.domain in SENIOR_DOMAINS]
    program = [c for t in s.topics if (c := kb.get(t.id)) and c.domain == PROGRAM_DOMAIN]
    used: list[Card] = []
    mentor, mentee = plan.mentor.name, plan.mentee.name
    me_senior = ctx.role != "mentor"
    head = "briefing" if me_senior else "facilitation notes"
    out = [
        f"**Session {s.number} {head}: {s.title}**",
        f"{s.date:%A %d %B %Y}, {s.minutes} minutes, {mentor} with {mentee}.",
        "",
    ]

    out.append("**What it is about**")
    for c in teach + program[:1]:
        out.append(f"- {c.title}: {fill(_first_sentences(c.summary))} {_cite(c)}")
        used.append(c)
    out.append("")
    out.append("**Key terms in plain words**")
    for c in teach or program:
        for k in c.key_concepts[:4]:
            out.append(f"- **{k.term}**: {fill(k.meaning)} {_cite(c)}")
        used.append(c)
    out.append("")
    if me_senior:
        out.append("**What to try beforehand**")
        pre = s.pre_work or [p for c in teach for p in c.pre_work]
        out += [f"- {fill(p)}" for p in pre[:4]] or ["- Nothing required; bring one real task from your week."]
        if teach:
            out[-1] += f" {_cite(teach[0])}"
        out.append("")
        out.append("**Questions worth asking**")
        mine = [p.text for p in s.discussion_prompts if p.asked_by in {"mentee", "both"}]
        mine += [fill(p.text) for c in teach for p in c.discussion_prompts if p.asked_by in {"mentee", "both"}]
        out += [f"- {q}" for q in list(dict.fromkeys(mine))[:4]] or ["- What would you use this for in your own week?"]
        out.append("")
        out.append("**What you could share back**")
        for minutes, what in senior_segments(s, teach, mentee):
            out.append(f"- You lead {minutes} minutes on {fill(what)}")
        for c in senior:
            for o in c.objectives[:2]:
                out.append(f"- {fill(o)} {_cite(c)}")
            asks = [fill(p.text) for p in c.discussion_prompts if p.asked_by == "mentor"][:2]
            out += [f'- {mentor} may ask you: "{q}" {_cite(c)}' for q in asks]
            used.append(c)
    else:
        out.append("**Agenda**")
        clock = 0
        for a in s.agenda:
            out.append(f"- {clock:02d}-{clock + a.minutes:02d} min ({a.minutes}) {a.lead}: {fill(a.activity)}")
            clock += a.minutes
        out.append("")
        out.append("**Watch out for**")
        out += [f"- {fill(p)} {_cite(c)}" for c in teach for p in c.pitfalls[:2]] or [
            "- Going too fast: check in often."
        ]
        out.append("")
        out.append(f"**What you could learn from {mentee}**")
        for c in senior:
            out += [f"- {fill(o)} {_cite(c)}" for o in c.objectives[:2]]
            used.append(c)
    return Answer("briefing", "\n".join(out).strip(), _ids(used))


def senior_segments(s: Session, teach: list[Card], mentee: str) -> list[tuple[int, str]]:
    """(minutes, what) for the blocks the senior leader leads from a senior-taught card."""
    prefixes = tuple(f"{c.title} - " for c in teach)
    out = []
    for a in s.agenda:
        if a.lead != "mentee" or a.activity.startswith(prefixes):
            continue
        what = a.activity.removeprefix(f"{mentee} leads (")
        if what != a.activity:
            what = what.replace("): ", ": ", 1)
        out.append((a.minutes, what))
    return out


def _ids(cards: list[Card]) -> list[str]:
    return list(dict.fromkeys(c.id for c in cards))


def _lesson(question: str, ctx: ChatContext, intent: Intent) -> Answer:
    from coach.planner import Block, fit_minutes

    topic = intent.topic or ""
    cards = relevant(topic, ctx.retriever, MENTOR_DOMAINS) or relevant(topic, ctx.retriever)
    if not cards:
        return _not_covered(question, ctx, "lesson", topic)
    card = cards[0]
    minutes = intent.minutes or (ctx.pair.program.minutes if ctx.pair else 30)
    minutes = max(10, min(minutes, 180))
    audience = intent.audience or (ctx.pair.mentee.role if ctx.pair else None) or "senior leader"
    fill = _Filler(ctx, audience)
    blocks = [Block(f"Opening: why {card.title.lower()} matters to a {audience}", "mentor", 3, True)]
    for j, act in enumerate(card.activities):
        label = f"{act.title} ({act.format}): {fill(act.description)}"
        blocks.append(Block(label, act.lead, float(act.minutes), j == 0, 1 + j))
    blocks.append(Block("Close: the learner names one thing to try this week", "both", 3, True))
    agenda = fit_minutes(blocks, minutes)
    out = [
        f"**A {minutes}-minute lesson: {card.title}, for a {audience}** {_cite(card)}",
        "",
        f"Goal: by the end, the {audience} can {card.objectives[0][0].lower() + card.objectives[0][1:]}.",
        "",
        f"**Timed plan** (adds up to {minutes} minutes)",
    ]
    clock = 0
    for a in agenda:
        out.append(f"- {clock:02d}-{clock + a.minutes:02d} ({a.minutes} min, {a.lead} leads) {a.activity}")
        clock += a.minutes
    out += ["", "**Key terms to explain**"]
    out += [f"- **{k.term}**: {fill(k.meaning)}" for k in card.key_concepts[:5]]
    if card.pitfalls:
        out += ["", "**Watch out for**"] + [f"- {fill(p)}" for p in card.pitfalls[:3]]
    out += ["", "**Questions to ask**"] + [f"- {fill(p.text)}" for p in card.discussion_prompts[:3]]
    if card.resources:
        out += ["", "**Resources**"] + [f"- {r.name} ({r.kind})" for r in card.resources[:3]]
    out += ["", f"Source: {_cite(card)}"]
    return Answer("lesson", "\n".join(out), [card.id])


def lesson_minutes(text: str) -> int | None:
    """The total of the timings in a lesson answer ('(10 min' blocks), or None when it has none."""
    found = [int(m) for m in re.findall(r"\((\d{1,3})\s*min", text)]
    return sum(found) if found else None


def _explain(question: str, ctx: ChatContext, intent: Intent) -> Answer:
    from rapidfuzz import fuzz

    topic = intent.topic or question
    cards = relevant(topic, ctx.retriever, k=3)
    if not cards:
        return _not_covered(question, ctx, "explain", topic)
    fill = _Filler(ctx)
    best = None
    for c in cards:
        for k in c.key_concepts:
            score = max(fuzz.token_set_ratio(topic, k.term), fuzz.partial_ratio(topic.lower(), k.term.lower()))
            if best is None or score > best[0]:
                best = (score, c, k)
    if best is not None and best[0] >= 80:
        _, card, concept = best
        out = [f"**{concept.term}, simply** {_cite(card)}", "", fill(concept.meaning), ""]
        out.append(f"It comes up in *{card.title}*: {fill(_first_sentences(card.summary, 1))} {_cite(card)}")
        related = [k for k in card.key_concepts if k.term != concept.term][:3]
    else:
        card = cards[0]
        out = [f"**{card.title}, simply** {_cite(card)}", "", fill(_first_sentences(card.summary, 2)), ""]
        related = card.key_concepts[:3]
    if related:
        out += ["", "Related terms:"] + [f"- **{k.term}**: {fill(k.meaning)}" for k in related]
    hands_on = next((a for a in card.activities if a.format in {"hands-on", "exercise", "demo"}), card.activities[0])
    out += ["", f"Try it: {hands_on.title} ({hands_on.minutes} min): {fill(hands_on.description)}"]
    if card.pitfalls:
        out += [f"Watch out: {fill(card.pitfalls[0])}"]
    out += ["", f"Source: {_cite(card)}"]
    return Answer("explain", "\n".join(out), [card.id])


def _cancellations(question: str, ctx: ChatContext, intent: Intent) -> Answer:
    card = ctx.retriever.kb.get(CANCELLATIONS_CARD)
    if card is None:
        return _general(question, ctx, intent)
    fill = _Filler(ctx)
    c = _cite(card)
    out = [f"**{card.title}** {c}", "", fill(card.summary), "", "**What to do**"]
    out += [f"{i}. {fill(o)}" for i, o in enumerate(card.objectives, 1)]
    out += ["", "**Key ideas**"] + [f"- **{k.term}**: {fill(k.meaning)}" for k in card.key_concepts]
    out += ["", "**Try together**"] + [f"- {a.title} ({a.minutes} min): {fill(a.description)}" for a in card.activities]
    out += ["", "**Talk it through**"] + [f"- {fill(p.text)}" for p in card.discussion_prompts]
    if card.pitfalls:
        out += ["", "**Avoid**"] + [f"- {fill(p)}" for p in card.pitfalls]
    if ctx.plan is not None:
        out += [
            "",
            "If a session has already been missed, keep every topic by compressing the rest of the plan: "
            '`coach revise --plan PLAN.json "session N was cancelled, compress the rest"`.',
        ]
    out += ["", f"Source: {c}"]
    return Answer("cancellations", "\n".join(out), [card.id])


def _general(question: str, ctx: ChatContext, intent: Intent) -> Answer:
    cards = relevant(intent.topic or question, ctx.retriever, k=3)
    if not cards:
        return _not_covered(question, ctx, "general")
    fill = _Filler(ctx)
    used = cards[:2]
    out: list[str] = []
    for card in used:
        c = _cite(card)
        out += [f"**{card.title}** {c}", fill(_first_sentences(card.summary, 2)), ""]
        out += [f"- {fill(o)}" for o in card.objectives[:3]]
        out += [f"- **{k.term}**: {fill(k.meaning)}" for k in card.key_concepts[:2]]
        out += [f"- Try: {card.activities[0].title}: {fill(card.activities[0].description)} {c}", ""]
    out.append("Sources: " + " ".join(_cite(c) for c in used))
    return Answer("general", "\n".join(out).strip(), _ids(used))
