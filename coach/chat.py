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
from typing import TYPE_CHECKING, Any

from coach.answers import Answer, ChatContext, compose, lesson_minutes, revise_answer
from coach.intents import Intent, classify
from coach.models import Card

if TYPE_CHECKING:
    from coach.providers import Provider

# Names other modules import from here; intents live in coach.intents, the offline answers in coach.answers.
__all__ = [
    "Answer",
    "ChatContext",
    "ChatTurn",
    "Intent",
    "ask",
    "chat_prompt",
    "classify",
    "compose",
    "lesson_minutes",
    "revise_answer",
]

ROLES = ("mentee", "mentor", "admin")
ROLE_TEXT = {
    "mentee": "mentee (the senior leader who is learning)",
    "mentor": "mentor (the junior colleague who teaches)",
    "admin": "program lead (who runs the mentoring program)",
}
MAX_QUESTION_CHARS = 2000


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


def chat_prompt(
    question: str, ctx: ChatContext, draft: Answer, compact: bool = False, history: str = ""
) -> tuple[str, str]:
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
    cards_part = fence_json("cards", card_data)
    if draft.documents:  # the organisation's passages the draft quotes, cited as [doc:ID]
        from coach.doc_answers import for_model

        cards_part += "\n\nOrganisation documents (cite as [doc:ID]):\n" + fence_json(
            "documents", for_model(draft.documents, ctx.retriever)
        )
    system = render("chat_system")
    user = render(
        "chat_user",
        role=ROLE_TEXT.get(ctx.role, ROLE_TEXT["mentee"]),
        pair=fence_json("pair", pair_for_model(ctx.pair)) if ctx.pair is not None else "(not given)",
        plan=fence_json("plan", plan_part),
        cards=cards_part,
        draft=fence("draft_answer", draft.text),
        question=(fence("earlier_turns", history) + "\n" if history else "") + fence("question", question),
    )
    return system, user


class ChatTurn:
    """One question answered as a stream of text; `answer` is set when the stream ends.

    Iterate it to print the answer as it arrives.
    """

    def __init__(
        self,
        question: str,
        ctx: ChatContext,
        provider: Provider | None = None,
        intent: Intent | None = None,
        history: str = "",
    ) -> None:
        """Check the question (InputError when empty, too long or in an unknown role).

        Args:
            question: what was asked.
            ctx: the cards, and optionally the pair, plan, today's date and the record.
            provider: the model, or None for the offline answer.
            intent: the intent already read (a conversation's follow-up); default: classified here.
            history: earlier turns of the conversation, sent to the model with the question.
        """
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
        self.intent = intent
        self.history = history

    def __iter__(self) -> Iterator[str]:
        intent = self.intent or classify(self.question, self.ctx.plan is not None)
        if intent.kind == "revise":
            # The model (if any) edits the plan; the edit is checked like `coach revise`.
            self.answer = revise_answer(self.question, self.ctx, self.provider)
            yield self.answer.text + "\n"
            return
        draft = compose(self.question, self.ctx, intent)
        # No model for refusals and for questions the cards do not cover.
        if self.provider is None or intent.kind in {"instructions", "smalltalk"} or not draft.covered:
            self.answer = draft
            yield draft.text + "\n"
            return
        yield from self._with_model(intent, draft, self.provider)

    def _with_model(self, intent: Intent, draft: Answer, provider: Provider) -> Iterator[str]:
        import time

        from coach.chains import cited_ids, stream_chat
        from coach.providers import ModelFailure
        from coach.safety import LeakGuard

        system, user = chat_prompt(self.question, self.ctx, draft, provider.compact, self.history)
        guard = LeakGuard([system])
        kb = self.ctx.retriever.kb
        allowed = set(draft.cards)
        docs_allowed = {d["doc_id"] for d in draft.documents}
        shown: list[str] = []
        pending = ""
        note: str | None = None
        started = time.perf_counter()

        def clean(line: str) -> str:
            # A citation must name a card (or document) the answer was grounded in; others are dropped.
            line = re.sub(
                r"\s?\[doc:([^\]\s]{1,80})\]", lambda m: m.group(0) if m.group(1) in docs_allowed else "", line
            )
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
            self.answer = Answer(intent.kind, text, draft.cards, True, provider.engine, note, documents=draft.documents)
            return
        extra = ""
        cited_docs = {d for d in docs_allowed if f"[doc:{d}]" in text}
        if not [i for i in cited_ids(text) if i in allowed] and not cited_docs:
            sources = [f"[{i}]" for i in draft.cards] + [f"[doc:{d}]" for d in sorted(docs_allowed)]
            extra += "\nSources: " + ", ".join(sources) + "\n"
        elif docs_allowed - cited_docs:  # the organisation's own passages are always credited
            extra += (
                "\nFrom your organisation's documents: "
                + "; ".join(
                    f"[doc:{d['doc_id']}] {d['title']}, {d['locator']}"
                    for d in draft.documents
                    if d["doc_id"] not in cited_docs
                )
                + "\n"
            )
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
        self.answer = Answer(intent.kind, text, draft.cards, True, provider.engine, None, documents=draft.documents)


class _Leak(Exception):
    """Raised inside the stream when the model starts repeating the system prompt."""


def ask(question: str, ctx: ChatContext, provider: Provider | None = None) -> Answer:
    """Answer a question in full (the stream consumed)."""
    turn = ChatTurn(question, ctx, provider)
    for _ in turn:
        pass
    assert turn.answer is not None
    return turn.answer
