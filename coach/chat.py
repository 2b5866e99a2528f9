"""The coach's chat: answers grounded in the cards, composed offline or tailored by a model, always cited.

Intents handled offline (and passed to a model as a draft when one is configured):

- briefing: "prepare me for session 2" (what it is about, key terms, pre-work, questions, what to share back)
- lesson: "give me a 30-minute lesson on prompt writing for a CFO" (a facilitation guide whose timings add up)
- explain: "explain hallucinations simply"
- cancellations: "what should we do, my mentee keeps cancelling"
- revise: "make session 3 about Teams" (with a plan: the offline or model revision, checked)
- general: anything else the cards cover; a question they do not cover is answered with "not covered".

Every answer cites the cards it used as [card-id]. With a model, card and user text are fenced as
data, the answer streams line by line through a filter that withholds any repetition of the
system prompt, unknown citations are dropped, and a transient model failure falls back to the
answer composed from the cards.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from coach.grounding import relevant
from coach.models import MENTOR_DOMAINS, PROGRAM_DOMAIN, SENIOR_DOMAINS, Card, Pair, Plan, Session
from coach.safety import asks_for_instructions

if TYPE_CHECKING:
    from coach.providers import Provider
    from coach.retrieval import Retriever

ROLES = ("mentee", "mentor", "admin")
ROLE_TEXT = {
    "mentee": "mentee (the senior leader who is learning)",
    "mentor": "mentor (the junior colleague who teaches)",
    "admin": "program lead (who runs the mentoring program)",
}
MAX_QUESTION_CHARS = 2000
CANCELLATIONS_CARD = "program-handling-cancellations"


@dataclass
class Intent:
    """What a question asks for."""

    kind: str
    session: int | None = None
    minutes: int | None = None
    topic: str | None = None
    audience: str | None = None


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


# --------------------------------------------------------------------------- intents

_BRIEFING = re.compile(
    r"\b(?:prepare|prep|ready|brief(?:ing)?|expect)\b.*?\bsession\s*(\d+)|\bsession\s*(\d+)\b.*?\b(?:prepare|prep|ready|brief|expect)"
)
_NEXT_SESSION = re.compile(r"\b(?:prepare|prep|ready|brief(?:ing)?)\b.*\bnext\s+session\b")
_LESSON = re.compile(
    r"\b(?:lesson|workshop|class|tutorial|crash\s+course|teaching\s+plan|teach)\b(?:\s+(?:on|about|in|covering))?\s+(.+)$"
)
_MINUTES = re.compile(r"\b(\d{1,3})\s*-?\s*(?:minutes?|mins?)\b|\b(an?|one|half\s+an)\s+hour\b")
_AUDIENCE = re.compile(r"\s+for\s+(?:a|an|the|my|our)?\s*([a-z][\w\s-]{1,40})$")
_EXPLAIN = re.compile(
    r"^(?:please\s+|can\s+you\s+|could\s+you\s+)?(?:explain|what\s+is|what's|whats|what\s+are|what\s+does|define|"
    r"describe|tell\s+me\s+about|how\s+does|how\s+do)\s+(.+)$"
)
_CANCEL = re.compile(
    r"cancel|reschedul|no[- ]show|postpon|keeps?\s+(?:moving|skipping|missing|dropping)|"
    r"(?:missed|skipped)\s+(?:sessions|meetings)|doesn'?t\s+show"
)
_EXPLAIN_TAIL = re.compile(
    r"\s+(?:simply|in\s+plain\s+(?:words|english|terms)|in\s+simple\s+terms|like\s+i'?m\s+\w+|to\s+me|mean|means)\b.*$"
)


def classify(question: str, has_plan: bool = False) -> Intent:
    """The intent of a question (rule-based, so the offline chat is predictable)."""
    q = " ".join(question.lower().strip().split()).rstrip("?!. ")
    if asks_for_instructions(q):
        return Intent("instructions")
    if has_plan and not _BRIEFING.search(q):
        from coach.revise import looks_like_edit

        if looks_like_edit(q):
            return Intent("revise", topic=question.strip())
    if m := _BRIEFING.search(q):
        return Intent("briefing", session=int(m.group(1) or m.group(2)))
    if _NEXT_SESSION.search(q):
        return Intent("briefing", session=None)
    minutes = None
    if m := _MINUTES.search(q):
        minutes = int(m.group(1)) if m.group(1) else 30 if m.group(2).startswith("half") else 60
    if m := _LESSON.search(q):
        rest = _MINUTES.sub(" ", m.group(1)).strip()
        audience = None
        if a := _AUDIENCE.search(rest):
            audience = a.group(1).strip()
            rest = rest[: a.start()].strip()
            # Keep the asker's casing ("CFO", not "cfo").
            found = re.search(re.escape(audience), question, re.IGNORECASE)
            audience = found.group(0) if found else audience
        return Intent("lesson", minutes=minutes, topic=_strip_topic(rest), audience=audience)
    if _CANCEL.search(q):
        return Intent("cancellations", topic=q)
    if m := _EXPLAIN.search(q):
        topic = _EXPLAIN_TAIL.sub("", m.group(1)).strip()
        return Intent("explain", topic=_strip_topic(topic))
    return Intent("general", topic=q)


def _strip_topic(text: str) -> str:
    text = re.sub(r"^(?:a|an|the|on|about|how\s+to)\s+", "", text.strip())
    return text.strip(" .,?!\"'")


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


# --------------------------------------------------------------------------- with a model


def _card_for_model(card: Card) -> dict[str, Any]:
    return {
        "id": card.id,
        "title": card.title,
        "domain": card.domain,
        "summary": " ".join(card.summary.split()),
        "key_concepts": [{"term": k.term, "meaning": k.meaning} for k in card.key_concepts],
        "activities": [
            {"title": a.title, "minutes": a.minutes, "lead": a.lead, "description": " ".join(a.description.split())}
            for a in card.activities
        ],
        "pitfalls": card.pitfalls,
        "pre_work": card.pre_work,
    }


def chat_prompt(question: str, ctx: ChatContext, draft: Answer, compact: bool = False) -> tuple[str, str]:
    """System and user messages for a chat answer (pair fields allowlisted, everything else fenced).

    `compact` (small local models) sends only the cards' names and the draft answer, which already
    carries the facts: prompt length is what makes a CPU-served model slow to start answering.
    """
    from coach.chains import plan_to_out
    from coach.prompts import render
    from coach.safety import fence, fence_json, pair_for_model

    kb = ctx.retriever.kb
    cards = [c for i in draft.cards if (c := kb.get(i)) is not None]
    plan_part: Any = "(none)"
    if ctx.plan is not None and not compact:
        part = plan_to_out(ctx.plan)
        wanted = {s["number"] for s in part["sessions"] if set(s["topic_ids"]) & set(draft.cards)}
        part["sessions"] = [s for s in part["sessions"] if s["number"] in wanted][:2]
        part.pop("success_measures", None)
        plan_part = part
    card_data = [{"id": c.id, "title": c.title} for c in cards] if compact else [_card_for_model(c) for c in cards]
    system = render("chat_system")
    user = render(
        "chat_user",
        role=ROLE_TEXT.get(ctx.role, ROLE_TEXT["mentee"]),
        pair=fence_json("pair", pair_for_model(ctx.pair)) if ctx.pair is not None else "(not given)",
        plan=fence_json("plan", plan_part),
        cards=fence_json("cards", card_data),
        draft=fence("draft_answer", draft.text),
        question=fence("question", question),
    )
    return system, user


class ChatTurn:
    """One question answered as a stream of text; `answer` is set when the stream ends.

    Iterate it to print the answer as it arrives.
    """

    def __init__(self, question: str, ctx: ChatContext, provider: Provider | None = None) -> None:
        from coach.errors import InputError

        if not question.strip():
            raise InputError("QUESTION", "question", "a non-empty question")
        if len(question) > MAX_QUESTION_CHARS:
            raise InputError("QUESTION", "question", f"at most {MAX_QUESTION_CHARS} characters, got {len(question)}")
        if ctx.role not in ROLES:
            raise InputError("--role", "role", f"one of {', '.join(ROLES)}, got {ctx.role!r}")
        self.question = question
        self.ctx = ctx
        self.provider = provider
        self.answer: Answer | None = None
        self.first_token_seconds: float | None = None

    def __iter__(self) -> Iterator[str]:
        intent = classify(self.question, self.ctx.plan is not None)
        if intent.kind == "revise":
            # The model (if any) edits the plan; the edit is checked like `coach revise`.
            self.answer = revise_answer(self.question, self.ctx, self.provider)
            yield self.answer.text + "\n"
            return
        draft = compose(self.question, self.ctx, intent)
        # No model for refusals and for questions the cards do not cover.
        if self.provider is None or intent.kind == "instructions" or not draft.covered:
            self.answer = draft
            yield draft.text + "\n"
            return
        yield from self._with_model(intent, draft, self.provider)

    def _with_model(self, intent: Intent, draft: Answer, provider: Provider) -> Iterator[str]:
        import time

        from coach.chains import cited_ids, stream_chat
        from coach.providers import ModelFailure
        from coach.safety import LeakGuard

        system, user = chat_prompt(self.question, self.ctx, draft, provider.compact)
        guard = LeakGuard([system])
        kb = self.ctx.retriever.kb
        allowed = set(draft.cards)
        shown: list[str] = []
        pending = ""
        note: str | None = None
        started = time.perf_counter()

        def clean(line: str) -> str:
            # A citation must name a card the answer was grounded in; others are dropped.
            return re.sub(
                r"\s?\[([a-z0-9]+(?:-[a-z0-9]+)+)\]",
                lambda m: m.group(0) if m.group(1) in allowed and kb.get(m.group(1)) else "",
                line,
            )

        try:
            for piece in stream_chat(provider, system, user):
                if self.first_token_seconds is None:
                    self.first_token_seconds = time.perf_counter() - started
                pending += piece
                while "\n" in pending:
                    line, pending = pending.split("\n", 1)
                    if guard.leaks("\n".join(shown[-3:]) + "\n" + line):
                        raise _Leak
                    line = clean(line)
                    shown.append(line)
                    yield line + "\n"
            if pending:
                if guard.leaks("\n".join(shown[-3:]) + "\n" + pending):
                    raise _Leak
                shown.append(clean(pending))
                yield shown[-1] + "\n"
        except _Leak:
            note = "the model's answer repeated the coach's instructions and was withheld"
        except ModelFailure as exc:
            note = f"the model did not finish ({exc})"
        text = "\n".join(shown).strip()
        if note is not None:
            tail = f"\n[{note}; here is the answer from the cards]\n\n{draft.text}\n"
            yield tail
            text = (text + "\n" + tail).strip() if text else tail.strip()
            self.answer = Answer(intent.kind, text, draft.cards, True, provider.engine, note)
            return
        extra = ""
        if not [i for i in cited_ids(text) if i in allowed]:
            extra += "\nSources: " + " ".join(f"[{i}]" for i in draft.cards) + "\n"
        if intent.kind == "lesson" and intent.minutes:
            total = lesson_minutes(text)
            if total != intent.minutes:
                extra += (
                    f"\n[the timings above add up to {total or 'no clear total'}, not {intent.minutes} minutes; "
                    f"here is a timed plan from the cards that does]\n\n{draft.text}\n"
                )
        if extra:
            yield extra
            text = (text + "\n" + extra).strip()
        self.answer = Answer(intent.kind, text, draft.cards, True, provider.engine, None)


class _Leak(Exception):
    """Raised inside the stream when the model starts repeating the system prompt."""


def ask(question: str, ctx: ChatContext, provider: Provider | None = None) -> Answer:
    """Answer a question in full (the stream consumed)."""
    turn = ChatTurn(question, ctx, provider)
    for _ in turn:
        pass
    assert turn.answer is not None
    return turn.answer
