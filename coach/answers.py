"""The chat's offline answers, composed from the plan and the cards and cited: briefing, lesson, explain and more."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from coach.grounding import relevant
from coach.intents import Intent, classify
from coach.models import MENTOR_DOMAINS, PROGRAM_DOMAIN, SENIOR_DOMAINS, Card, Pair, Plan, Session
from coach.smalltalk import INSTRUCTIONS_REPLY, reply
from coach.wording import learns, senior_segments, task, task_items

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
    #: "Today" for "my next session" (None: the real date); injectable for tests.
    today: dt.date | None = None
    #: What the program's record says happened to each session: number -> "held" or "cancelled".
    record: dict[int, str] = field(default_factory=dict)

    def names(self) -> tuple[str, ...]:
        """The pair's names, which are never unknown words in a question."""
        people = self.pair if self.pair is not None else self.plan
        return (people.mentor.name, people.mentee.name) if people is not None else ()

    def current_date(self) -> dt.date:
        """Today, or the injected date."""
        return self.today or dt.date.today()


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
    #: Organisation document passages the answer quotes and cites as [doc:DOC_ID]: doc_id, title, locator.
    documents: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The JSON form printed by `coach ask --format json`."""
        return {
            "intent": self.intent,
            "answer": self.text,
            "cards": self.cards,
            "covered": self.covered,
            "engine": self.engine,
            "note": self.note,
            "documents": self.documents,
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
        from coach.knowledge import NEUTRAL_PLACEHOLDERS as neutral

        self.values = {
            "{mentor}": mentor or neutral["{mentor}"],
            "{mentee}": mentee or (f"the {audience}" if audience else neutral["{mentee}"]),
            "{mentor_role}": mentor_role or neutral["{mentor_role}"],
            "{mentee_role}": audience or mentee_role or neutral["{mentee_role}"],
        }

    def __call__(self, text: str) -> str:
        for k, v in self.values.items():
            text = text.replace(k, v)
        return " ".join(text.split())


# --------------------------------------------------------------------------- offline answers


def compose(question: str, ctx: ChatContext, intent: Intent | None = None) -> Answer:
    """The offline answer: composed from the plan and the cards, cited; organisation documents quoted as [doc:ID]."""
    intent = intent or classify(question, ctx.plan is not None)
    handler = {
        "instructions": _instructions,
        "smalltalk": _smalltalk,
        "revise": _revise,
        "briefing": _briefing,
        "lesson": _lesson,
        "cancellations": _cancellations,
        "explain": _explain,
        "general": _general,
    }[intent.kind]
    if intent.brief and intent.kind in {"explain", "general"}:
        handler = _brief
    answer = handler(question, ctx, intent)
    if intent.brief and handler is not _brief and answer.covered:
        from coach.brief import shorten

        answer.text = shorten(answer.text, intent.brief)
    answer.text = humanise(answer.text, ctx.retriever.kb)
    # The organisation's own documents, quoted as written (after humanise, which is for card text).
    from coach.doc_answers import with_documents

    return with_documents(question, ctx.retriever, answer)


_BARE_ID = re.compile(r"(?<![\[\w/.-])([a-z0-9]+(?:-[a-z0-9]+)+)(?![\w\]/.-])")
_PRODUCTS = {
    "ai": "AI",
    "chatgpt": "ChatGPT",
    "tiktok": "TikTok",
    "linkedin": "LinkedIn",
    "youtube": "YouTube",
    "powerpoint": "PowerPoint",
    "copilot": "Copilot",
    "whatsapp": "WhatsApp",
    "power bi": "Power BI",
    "docusign": "DocuSign",
}
_PRODUCT = re.compile(r"\b(" + "|".join(re.escape(k) for k in _PRODUCTS) + r")\b")


def humanise(text: str, kb: Any) -> str:
    """Text as a person writes it: card ids outside [citations] become titles, domain slugs become
    titles, and "AI" and product names are cased right. Citations in [card-id] form stay as they are.
    """
    from coach.coverage import DOMAIN_TITLES

    def name(m: re.Match[str]) -> str:
        word = m.group(1)
        if word in DOMAIN_TITLES:
            return DOMAIN_TITLES[word]
        card = kb.get(word)
        return f"*{card.title}*" if card is not None else word

    out = []
    for line in text.split("\n"):
        if line.lstrip().startswith("`") or "coach " in line:
            out.append(line)  # commands are shown as typed
            continue
        pieces = re.split(r"(\[[a-z0-9]+(?:-[a-z0-9]+)+\])", line)  # citations stay exactly as they are
        for i in range(0, len(pieces), 2):
            pieces[i] = _PRODUCT.sub(lambda m: _PRODUCTS[m.group(1)], _BARE_ID.sub(name, pieces[i]))
        out.append("".join(pieces))
    return "\n".join(out)


def _instructions(question: str, ctx: ChatContext, intent: Intent) -> Answer:
    return Answer("instructions", INSTRUCTIONS_REPLY, [], covered=True)


def _smalltalk(question: str, ctx: ChatContext, intent: Intent) -> Answer:
    return Answer("smalltalk", reply(question) or "", [], covered=True)


def _not_covered(question: str, ctx: ChatContext, intent: str, topic: str | None = None, ev: Any = None) -> Answer:
    from coach.coverage import nearest, refusal
    from coach.scope import request_kind

    near = nearest(ev) if ev is not None else None
    if topic and (asked := re.search(re.escape(topic), question, re.IGNORECASE)):
        topic = asked.group(0)  # as the asker wrote it: "no card on BeReal", not "bereal"
    return Answer(intent, refusal(topic, near, request_kind(question)), [], covered=False)


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
    """The plan and the session a briefing is about (building the offline plan from the pair if needed).

    "My next session" is the first session on or after today that the record does not show as held
    or cancelled. When every session is past, there is no session to brief: the third value says so.
    """
    plan = ctx.plan
    if plan is None and ctx.pair is not None:
        from coach.planner import build_plan

        plan = build_plan(ctx.pair, ctx.retriever)
    if plan is None:
        return None, None, "I need your plan (--plan FILE) or your pair file (--pair FILE) to brief you on a session."
    number = intent.session
    if number is None and intent.missed:
        cancelled = [n for n, status in sorted(ctx.record.items()) if status == "cancelled"]
        number = cancelled[-1] if cancelled else None
    if number is None:
        today = ctx.current_date()
        upcoming = [s for s in plan.sessions if s.date >= today and s.number not in ctx.record]
        if not upcoming:
            last = plan.sessions[-1]
            held = sum(1 for v in ctx.record.values() if v == "held")
            done = f" ({held} held)" if ctx.record else ""
            return (
                plan,
                None,
                f"Every session of this plan is behind you: the last one, session {last.number}, was on "
                f"{last.date:%A %d %B %Y}{done}, and today is {today:%d %B %Y}. Two good next steps: a closing "
                "review of what changed for both of you (ask me for a closing review), or a follow-up session "
                "in a month to check what stuck (plan a follow-up with `coach revise`, or start a new program).",
            )
        number = upcoming[0].number
    if not 1 <= number <= len(plan.sessions):
        return plan, None, f"Your plan has sessions 1 to {len(plan.sessions)}; there is no session {number}."
    return plan, plan.sessions[number - 1], None


def _briefing(question: str, ctx: ChatContext, intent: Intent) -> Answer:
    plan, s, problem = _session_for(ctx, intent)
    if plan is not None and s is None and problem and problem.startswith("Every session"):
        closing = ctx.retriever.kb.get("program-closing-review")
        cited = [closing.id] if closing else []
        return Answer("briefing", problem + (f" {_cite(closing)}" if closing else ""), cited, covered=True)
    if problem or plan is None or s is None:
        return Answer("briefing", problem or "No such session.", [], covered=False)
    kb = ctx.retriever.kb
    fill = _Filler(ChatContext(ctx.retriever, ctx.pair, plan, ctx.role))
    teach = [c for t in s.topics if (c := kb.get(t.id)) and c.domain in MENTOR_DOMAINS]
    senior = [c for t in s.topics if (c := kb.get(t.id)) and c.domain in SENIOR_DOMAINS]
    program = [c for t in s.topics if (c := kb.get(t.id)) and c.domain == PROGRAM_DOMAIN]
    used: list[Card] = []
    mentor, mentee = plan.mentor.name, plan.mentee.name
    side = intent.side or ("mentor" if ctx.role == "mentor" else "mentee")
    me_senior = side == "mentee"
    head = "briefing" if me_senior else "facilitation notes"
    if side != ("mentor" if ctx.role == "mentor" else "mentee"):
        head += f" for {mentee if me_senior else mentor}"
    status = ctx.record.get(s.number)
    when = f"{s.date:%A %d %B %Y}"
    if intent.missed or status == "cancelled":
        cancelled = status == "cancelled" or "cancel" in question.lower()
        when += ", " + ("cancelled" if cancelled else "cut short")
        head = "catch-up"
    elif status == "held":
        when += ", held"
    elif s.date < ctx.current_date():
        when += " (that date has passed and nothing is logged for it)"
    out = [
        f"**Session {s.number} {head}: {s.title}**",
        f"{when}, {s.minutes} minutes, {mentor} with {mentee}.",
        "",
    ]
    if intent.missed or status == "cancelled":
        out += [
            f"Here is what session {s.number} set out to cover, so you can pick up the essentials in the next "
            "one or in a short catch-up. Nothing in your plan has been changed.",
            "",
        ]
    if intent.give_back:
        return _give_back(ctx, intent, s, senior, out, fill, mentor)

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
    pre_work = [fill(p) for p in s.pre_work or [p for c in teach for p in c.pre_work]]
    # Each task cites the card it comes from (the plan's own tasks, such as rating comfort, cite none).
    source = {task(fill(p), mentor, mentee)[1]: f" {_cite(c)}" for c in teach + program + senior for p in c.pre_work}

    def task_lines(side: str) -> list[str]:
        return [
            f"- {shown}{source.get(instruction, '')}"
            for instruction, shown in task_items(pre_work, side, mentor, mentee)
        ]

    if me_senior:
        out.append("**What to try beforehand**")
        out += task_lines("mentee")[:4] or ["- Nothing required; bring one real task from your week."]
        out.append("")
        out.append("**Questions worth asking**")
        mine = [p.text for p in s.discussion_prompts if p.asked_by in {"mentee", "both"}]
        mine += [fill(p.text) for c in teach for p in c.discussion_prompts if p.asked_by in {"mentee", "both"}]
        out += [f"- {q}" for q in list(dict.fromkeys(mine))[:4]] or ["- What would you use this for in your own week?"]
        out.append("")
        out.append("**What you could share back**")
        for minutes, what in senior_segments(s, teach, mentee):
            out.append(f"- You lead {minutes} minutes: {fill(what)}")
        for c in senior:
            for o in c.objectives[:2]:
                out.append(f"- {learns(mentor, fill(o))} {_cite(c)}")
            asks = [fill(p.text) for p in c.discussion_prompts if p.asked_by == "mentor"][:2]
            out += [f'- {mentor} may ask you: "{q}" {_cite(c)}' for q in asks]
            used.append(c)
    else:
        if pre := task_lines("mentor")[:4]:
            out += ["**What to prepare**", *pre, ""]
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


def _give_back(
    ctx: ChatContext, intent: Intent, s: Session, senior: list[Card], out: list[str], fill: Any, mentor: str
) -> Answer:
    """What the senior can teach back in a session, on the topic asked ("strategy") when one is given."""
    kb = ctx.retriever.kb
    cards = senior
    if intent.topic:
        found = [h.card for h in ctx.retriever.search(intent.topic, k=3, domains=set(SENIOR_DOMAINS))]
        on_topic = [c for c in cards if c in found]
        cards = on_topic or found[:1] or cards
    if not cards:
        return Answer("briefing", refusal_for_give_back(s), [], covered=False)
    out.append(f"**What you could teach {mentor} back**")
    for c in cards[:2]:
        out.append(f"- *{c.title}*: {fill(_first_sentences(c.summary, 1))} {_cite(c)}")
        out += [f"  - {learns(mentor, fill(o))}" for o in c.objectives[:2]]
        act = next((a for a in c.activities if a.lead in {"mentee", "both"}), c.activities[0] if c.activities else None)
        if act is not None:
            mins = next((a.minutes for a in s.agenda if act.title in a.activity), act.minutes)  # as the plan times it
            out.append(f"  - An activity you could lead ({mins} min): {act.title}. {fill(act.description)}")
    if intent.topic and not any(c in senior for c in cards):
        out.append(
            f"\nSession {s.number} has no {intent.topic} segment in the plan; the card above is the one to bring "
            "if you want to add it."
        )
    return Answer("briefing", "\n".join(out).strip(), [c.id for c in cards[:2] if kb.get(c.id)])


def refusal_for_give_back(s: Session) -> str:
    """When the cards have nothing the senior could teach back."""
    return f"Session {s.number} has no segment the senior leader leads, and no card matches the topic asked."


def _ids(cards: list[Card]) -> list[str]:
    return list(dict.fromkeys(c.id for c in cards))


def _lesson(question: str, ctx: ChatContext, intent: Intent) -> Answer:
    from coach.chat_search import lesson_focus, search, word_stats, words
    from coach.planner import Block, fit_minutes

    topic = intent.topic or ""
    ev = _evidence(topic or question, ctx)
    if not ev.covered:
        return _not_covered(question, ctx, "lesson", topic, ev)
    find = _chat_search(ctx)
    cards = relevant(topic, ctx.retriever, search=find) or ev.cards
    focus = lesson_focus(topic)
    # "a lesson on automating X" comes from a card that at least mentions automating: when the best card
    # does not, a card of the top three whose title names the skill and more of the topic than its own.
    stats = word_stats(ctx.retriever.kb.cards)
    skill, wanted = (words(focus) if focus else set()), words(topic)

    def named(card: Card) -> float:
        return sum(stats.idf(w) for w in wanted & stats.title.get(card.id, frozenset()))

    if skill and not skill & stats.text.get(cards[0].id, frozenset()):
        for hit in search(topic, ctx.retriever, k=3, focus=focus):
            if skill & stats.title.get(hit.card.id, frozenset()) and named(hit.card) > named(cards[0]):
                cards = [hit.card]
                break
    card = cards[0]
    minutes = intent.minutes or (ctx.pair.program.minutes if ctx.pair else 30)
    minutes = max(10, min(minutes, 180))
    audience = intent.audience
    mentee_names = ctx.pair.mentee.name.lower().split() if ctx.pair else []
    if audience is None or audience.lower() in {"mentee", "my mentee", "senior", "learner", *mentee_names}:
        audience = (ctx.pair.mentee.role if ctx.pair else None) or "senior leader"
    fill = _Filler(ctx, audience)
    # The title is in the heading; repeating it here stacked colons ("why microsoft teams: chats ... matters").
    blocks = [Block(f"Opening: why this topic matters to a {audience}, in their own work", "mentor", 3, True)]
    for j, act in enumerate(card.activities):
        label = f"{act.title} ({act.format}): {fill(act.description)}"
        blocks.append(Block(label, act.lead, float(act.minutes), j == 0, 1 + j))
    blocks.append(Block("Close: the learner names one thing to try this week", "both", 3, True))
    agenda = fit_minutes(blocks, minutes)
    out = [
        f"**A {minutes}-minute lesson on {card.title}, for a {audience}** {_cite(card)}",
        "",
        f"Goal: by the end, the {audience} can {card.objectives[0][0].lower() + card.objectives[0][1:]}.",
        "",
        f"**Timed plan** (adds up to {minutes} minutes)",
    ]
    clock = 0
    for a in agenda:
        leads = "both lead" if a.lead == "both" else f"{a.lead} leads"
        out.append(f"- {clock:02d}-{clock + a.minutes:02d} ({a.minutes} min, {leads}) {a.activity}")
        clock += a.minutes
    out += ["", "**Key terms to explain**"]
    out += [f"- **{k.term}**: {fill(k.meaning)}" for k in card.key_concepts[:5]]
    if card.pitfalls:
        out += ["", "**Watch out for**"] + [f"- {fill(p)}" for p in card.pitfalls[:3]]
    out += ["", "**Questions to ask**"] + [f"- {fill(p.text)}" for p in card.discussion_prompts[:3]]
    if card.resources:
        out += ["", "**Resources**"] + [f"- {r.name} ({r.kind})" for r in card.resources[:3]]
    extra: list[Card] = []
    if intent.extra:
        added = _evidence(intent.extra, ctx)
        more = next((c for c in added.cards if c.id != card.id), None)
        if more is not None:
            extra = [more]
            out += ["", f"**Add-on: {intent.extra}**"] + [
                f"- **{k.term}**: {fill(k.meaning)} {_cite(more)}" for k in more.key_concepts[:3]
            ]
    out += ["", "Source: " + " ".join(_cite(c) for c in [card, *extra])]
    return Answer("lesson", "\n".join(out), [card.id] + [c.id for c in extra])


def lesson_minutes(text: str) -> int | None:
    """The total of the timings in a lesson answer ('(10 min' blocks), or None when it has none."""
    found = [int(m) for m in re.findall(r"\((\d{1,3})\s*min", text)]
    return sum(found) if found else None


def _explain(question: str, ctx: ChatContext, intent: Intent) -> Answer:
    topic = intent.topic or question
    ev = _evidence(question, ctx)
    if not ev.covered:
        return _not_covered(question, ctx, "explain", topic, ev)
    cards = relevant(topic, ctx.retriever, k=3, search=_chat_search(ctx)) or ev.cards
    fill = _Filler(ctx)
    from coach.terms import find

    if (named := find(topic, cards, ctx.retriever.kb.cards)) is not None:
        card, concept = named
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
    also = [c for c in ev.cards[:2] if c.id != card.id][:1]
    out += ["", "Source: " + _cite(card) + (" (see also " + _cite(also[0]) + ")" if also else "")]
    return Answer("explain", "\n".join(out), [card.id] + [c.id for c in also])


def _brief(question: str, ctx: ChatContext, intent: Intent) -> Answer:
    """The previous answer's card in `intent.brief` points ("shorter pls, 3 bullets")."""
    ev = _evidence(question, ctx)
    if not ev.covered:
        return _not_covered(question, ctx, intent.kind, intent.topic, ev)
    card = ev.cards[0]
    if intent.kind == "explain" and intent.topic:
        card = (relevant(intent.topic, ctx.retriever, k=1, search=_chat_search(ctx)) or [card])[0]
    fill = _Filler(ctx)
    n = intent.brief or 3
    points = [_first_sentences(card.summary, 1), *card.objectives, *(p for p in card.pitfalls[:1])][:n]
    out = [f"**{card.title}, in {n} point{'s' if n > 1 else ''}** {_cite(card)}", ""]
    out += [f"- {fill(p)}" for p in points]
    out += ["", f"Source: {_cite(card)}"]
    return Answer(intent.kind, "\n".join(out), [card.id])


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


def _chat_search(ctx: ChatContext) -> Any:
    """The chat's re-ranked card search (coach.chat_search) over this context's retriever."""
    from coach.chat_search import search

    return lambda query, k=3, domains=None: search(query, ctx.retriever, k=k, domains=domains)


def _evidence(query: str, ctx: ChatContext) -> Any:
    """The calibrated coverage decision for a question (coach.coverage)."""
    from coach.coverage import assess

    return assess(query, ctx.retriever, names=ctx.names())


def _general(question: str, ctx: ChatContext, intent: Intent) -> Answer:
    domains = set(SENIOR_DOMAINS) if intent.give_back else None
    ev = _evidence(question, ctx)
    if not ev.covered:
        return _not_covered(question, ctx, "general", ev=ev)
    cards = ev.cards
    if domains:  # "what should I teach my mentor back about strategy": the senior's half only
        cards = [h.card for h in ctx.retriever.search(intent.topic or question, k=3, domains=domains)] or cards
    fill = _Filler(ctx)
    from coach.avoid import asks_what_to_avoid, avoid_answer, topic_words

    if asks_what_to_avoid(question) and not domains:
        # Searched without "mistakes" or "avoid", which would pull in the card on career setbacks.
        found = [h.card for h in _chat_search(ctx)(topic_words(question), k=3)]
        ranked = {c.id: c for c in [*(c for c in found if c in cards), *found]}  # evidence's cards first
        text, cited = avoid_answer(list(ranked.values()) or cards, fill, _cite)
        if text:
            return Answer("general", text, _ids(cited))
    used = cards[:2]
    out: list[str] = []
    for card in used:
        c = _cite(card)
        out += [f"**{card.title}** {c}", fill(_first_sentences(card.summary, 2)), ""]
        out += [f"- {fill(o)}" for o in card.objectives[:3]]
        out += [f"- **{k.term}**: {fill(k.meaning)}" for k in card.key_concepts[:2]]
        out += [f"- Try: {card.activities[0].title}: {fill(card.activities[0].description)} {c}", ""]
    more = [c for c in cards[2:3] if c not in used]
    if more:
        out += [f"See also *{more[0].title}* {_cite(more[0])}.", ""]
    out.append("Sources: " + ", ".join(_cite(c) for c in used + more))
    return Answer("general", "\n".join(out).strip(), _ids(used + more))
