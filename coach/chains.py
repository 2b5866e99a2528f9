"""Model chains: the plan writer and the revision chain, with the prompts and rules they send.

The plan writer asks for each session's words separately (`coach.session_writer` runs the requests
concurrently and checks each one); the revision chain asks for the whole edited plan in the
check-and-repair loop of `coach.repair`. The offline planner or editor takes over where the model's
text does not pass. Names other modules import from here but that
live elsewhere since the split: MAX_ATTEMPTS, structured_call, fit_prompt, make_evaluator and
repair_loop (`coach.repair`), plan_to_out (`coach.plan_schema`), stream_chat and cited_ids
(`coach.chat_stream`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from coach.chat_stream import cited_ids as cited_ids  # re-exported: importers predate the split
from coach.chat_stream import stream_chat as stream_chat  # re-exported
from coach.models import MENTOR_DOMAINS, SENIOR_DOMAINS, Card, GeneratedBy, Pair, Plan, Session
from coach.plan_schema import plan_to_out
from coach.providers import Provider
from coach.repair import MAX_ATTEMPTS as MAX_ATTEMPTS  # re-exported
from coach.repair import LoopOutcome, Usage, fit_prompt, make_evaluator, repair_loop
from coach.repair import structured_call as structured_call  # re-exported
from coach.safety import fence, fence_json, pair_for_model

if TYPE_CHECKING:
    from coach.config import Settings
    from coach.knowledge import KnowledgeBase
    from coach.retrieval import Retriever
    from coach.session_writer import Progress, SessionJob


# --------------------------------------------------------------------------- prompt material


def card_brief(card: Card, detail: str = "full") -> dict[str, Any]:
    """The parts of a card a model needs to plan with it (less at lower detail, to save tokens)."""
    brief: dict[str, Any] = {"id": card.id, "title": card.title, "domain": card.domain}
    if detail == "minimal":
        return brief
    brief["summary"] = " ".join(card.summary.split())
    if detail == "short":
        return brief
    brief["level"] = card.level
    brief["objectives"] = card.objectives
    brief["activities"] = [{"title": a.title, "minutes": a.minutes, "lead": a.lead} for a in card.activities]
    brief["prerequisites"] = card.prerequisites
    return brief


def cards_block(cards: list[Card], detail: str = "full") -> str:
    """Cards as a fenced data block."""
    return fence_json("cards", [card_brief(c, detail) for c in cards])


def _goal_rule(count: int, where: str) -> str:
    # Goals are user text: the rules name them by index only and the text stays inside its data block.
    indexes = ", ".join(str(i) for i in range(count))
    return f"- Every goal index ({indexes}; 0 is the first of {where}) appears in the goals of at least one session."


def _common_rules(kickoff: str, closing: str) -> list[str]:
    return [
        f"- Session 1 includes the topic {kickoff}; the last session includes program-closing-review ({closing}).",
        f"- Every session includes a topic from {', '.join(SENIOR_DOMAINS)} and an agenda block with lead "
        '"mentee" that the senior leader leads.',
        f"- Teaching topics come from {', '.join(MENTOR_DOMAINS)}; a card's prerequisites come before it.",
        '- Discussion prompts in each session include some asked_by "mentor" or "both" and some asked_by '
        '"mentee" or "both"; no prompt repeats anywhere in the plan.',
    ]


def revision_rules(plan: Plan) -> str:
    """The rules an edited plan keeps (lengths and dates may change where the edit asks)."""
    from coach.checks import CLOSING_CARD, KICKOFF_CARD

    return "\n".join(
        [
            "- Sessions are numbered 1, 2, 3... in order, with dates in increasing order.",
            "- Each session's agenda minutes add up to exactly that session's minutes (15 to 180).",
            *_common_rules(KICKOFF_CARD, CLOSING_CARD),
            _goal_rule(len(plan.goals), "the plan's goals"),
        ]
    )


# --------------------------------------------------------------------------- plan writer


def session_rules(session: Session) -> str:
    """The rules one session's words must meet, spelled out with that session's blocks and questions."""
    from coach.session_writer import LINE_CHARS, TITLE_CHARS, writable_blocks

    given = [session.agenda[i] for i in writable_blocks(session)]
    blocks = "; ".join(f"{i + 1}: {a.minutes} min led by {a.lead}" for i, a in enumerate(given))
    asks = "; ".join(f"{i + 1}: asked by {p.asked_by}" for i, p in enumerate(session.discussion_prompts))
    return "\n".join(
        [
            '- Answer with one JSON object with exactly the keys "title", "objectives", "agenda", '
            '"discussion_prompts" and "reflection"; every value but "title" is a list of strings.',
            f'- "agenda": exactly {len(given)} strings, one per agenda block of the draft and in the same '
            f"order; each block keeps its minutes and its lead ({blocks}). A block led by mentee is the senior "
            "leader teaching back strategy or leadership.",
            f'- "discussion_prompts": exactly {len(session.discussion_prompts)} questions in the draft\'s order, '
            f"each asked by the same person as in the draft ({asks}); no question twice.",
            '- "objectives": two or three lines; "reflection": one or two lines, each naming who reflects.',
            f"- Be concise: a title under {TITLE_CHARS} characters and every line under {LINE_CHARS}.",
            "- Call the mentor and the mentee by the names in the pair block.",
        ]
    )


def session_cards(session: Session, kb: KnowledgeBase) -> list[Card]:
    """The cards one session uses: the only cards its prompt carries."""
    return [c for c in (kb.get(t.id) for t in session.topics) if c is not None]


def session_prompt(
    pair: Pair, draft: Plan, session: Session, cards: list[Card], detail: str = "full"
) -> tuple[str, str]:
    """System and user messages for one session's words."""
    from coach.prompts import render
    from coach.session_writer import session_slice

    system = render("session_system")
    others = [{"number": s.number, "title": s.title} for s in draft.sessions if s.number != session.number]
    user = render(
        "session_user",
        number=str(session.number),
        total=str(len(draft.sessions)),
        rules=session_rules(session),
        pair=fence_json("pair", pair_for_model(pair)),
        cards=cards_block(cards, detail),
        session=fence_json("session", session_slice(session, pair.mentee.goals)),
        others=fence_json("other_sessions", others),
    )
    return system, user


def session_jobs(pair: Pair, draft: Plan, kb: KnowledgeBase, provider: Provider) -> list[SessionJob]:
    """One request per session: its prompt fitted to the input cap, and an output cap sized to its text."""
    from coach.session_writer import SessionJob, session_text

    jobs = []
    for session in draft.sessions:

        def build(cards: list[Card], detail: str, s: Session = session) -> tuple[str, str]:
            return session_prompt(pair, draft, s, cards, detail)

        system, user = fit_prompt(build, session_cards(session, kb), provider)
        need = estimate_tokens(json.dumps(session_text(session), ensure_ascii=False))
        skip = None
        if need > provider.max_tokens:
            skip = (
                f"it needs about {need} output tokens, more than the cap of {provider.max_tokens} "
                f"for {provider.model} (COACH_MAX_TOKENS)"
            )
        elif len(system) + len(user) > provider.max_input_chars:
            skip = (
                f"its prompt is {len(system) + len(user)} characters, over the input cap of "
                f"{provider.max_input_chars} (COACH_MAX_INPUT_CHARS)"
            )
        # Room for longer wording than the draft's, within the provider's cap. A small local model that
        # rambles is cut off sooner: at its speed every extra token is seconds.
        room = need + 128 if provider.compact else 2 * need + 256
        jobs.append(SessionJob(session, system, user, min(provider.max_tokens, room), skip))
    return jobs


def concurrency_for(provider: Provider, settings: Settings) -> int:
    """Requests at once: COACH_CONCURRENCY, or one for the local server (it answers one at a time)."""
    return 1 if provider.engine == "local" else max(1, settings.concurrency)


def write_plan(
    pair: Pair,
    retriever: Retriever,
    settings: Settings,
    draft: Plan,
    *,
    model: str | None = None,
    provider: Provider | None = None,
    progress: Progress | None = None,
) -> Plan:
    """The plan with each session's words written by the configured model; the draft's where a session failed.

    Args:
        pair: the mentoring pair.
        retriever: gives the cards (`retriever.kb`).
        settings: caps, timeout, `COACH_CONCURRENCY` and `COACH_MODEL`.
        draft: the offline planner's plan for the same pair (its structure is kept; the fallback).
        model: overrides `COACH_MODEL` (the `--model` option).
        provider: an already open provider (the local server stays up between calls).
        progress: called with a SessionEvent as each session starts, streams and ends (from worker threads).
    """
    if provider is None:
        from coach.providers import open_provider

        with open_provider(settings, model) as opened:
            if opened is None:
                return draft
            return _write_plan(pair, retriever, settings, draft, opened, progress)
    return _write_plan(pair, retriever, settings, draft, provider, progress)


def _write_plan(
    pair: Pair, retriever: Retriever, settings: Settings, draft: Plan, provider: Provider, progress: Progress | None
) -> Plan:
    from coach.checks import check_plan
    from coach.session_writer import write_sessions

    kb = retriever.kb
    jobs = session_jobs(pair, draft, kb, provider)
    secrets = list(dict.fromkeys(j.system for j in jobs))
    outcome = write_sessions(
        provider, draft, jobs, lambda p: check_plan(p, pair, kb), secrets, concurrency_for(provider, settings), progress
    )
    usage = outcome.usage
    written = outcome.model_sessions
    by = provider.generated_by().model_copy(update={"sessions": written})
    if not written:
        first = next(iter(outcome.fallbacks.items()), (1, "unknown reason"))
        reason = f"no session passed (session {first[0]}: {first[1]}); used the offline draft"
        return _fallback(draft, provider, reason, outcome.attempts, usage, by)
    kept = [f"Session {n} keeps the offline planner's text: {why}." for n, why in sorted(outcome.fallbacks.items())]
    return outcome.plan.model_copy(
        update={
            "generated_by": by,
            "attempts": outcome.attempts,
            "usage": usage.as_dict(),
            "fallback_reason": None,
            "notes": [*draft.notes, *kept],
        }
    )


def _fallback(
    draft: Plan, provider: Provider, reason: str, attempts: int, usage: Usage, by: GeneratedBy | None = None
) -> Plan:
    """The offline draft, marked with the model that was asked and why its text was not used."""
    return draft.model_copy(
        update={
            "generated_by": by or provider.generated_by(),
            "attempts": attempts,
            "usage": usage.as_dict(),
            "fallback_reason": reason,
            "notes": [*draft.notes, f"Written by the offline planner: {reason}."],
        }
    )


def estimate_tokens(text: str) -> int:
    """A slightly conservative token count for JSON-heavy text (about 3.8 characters a token; SmolLM2 measures 4.2)."""
    return int(len(text) / 3.8) + 1


def usage_line(plan: Plan, settings: Settings) -> str | None:
    """Tokens a model plan took, and its estimated price when COACH_PRICE_PER_MTOK is set; None offline."""
    u = plan.usage
    if not u or plan.generated_by.engine == "offline":
        return None
    by = plan.generated_by
    total = len(plan.sessions)
    wrote = f"{len(by.sessions)} of {total} sessions" if by.sessions is not None else "the plan"
    line = (
        f"{by.engine}:{by.model} wrote {wrote} in {u.get('calls', 0)} requests: "
        f"{u.get('prompt_tokens', 0):,} prompt + {u.get('completion_tokens', 0):,} completion tokens"
    )
    if settings.price_per_mtok is not None:
        cost = u.get("total_tokens", 0) * settings.price_per_mtok / 1_000_000
        line += f", about ${cost:.4f} at ${settings.price_per_mtok:g} per million tokens (COACH_PRICE_PER_MTOK)"
    return line


# --------------------------------------------------------------------------- revision


def revise_prompt(plan: Plan, instruction: str, cards: list[Card], detail: str = "full") -> tuple[str, str]:
    """System and user messages for a model edit (the request fenced as data)."""
    from coach.prompts import render

    system = render("revise_system")
    user = render(
        "revise_user",
        instruction=fence("edit_request", instruction),
        rules=revision_rules(plan),
        cards=cards_block(cards, detail),
        plan=fence_json("plan", {"goals": plan.goals, **plan_to_out(plan)}),
    )
    return system, user


def revise_with_model(
    plan: Plan,
    instruction: str,
    cards: list[Card],
    kb: KnowledgeBase,
    provider: Provider,
    check: Callable[[Plan], list[str]],
) -> LoopOutcome:
    """Ask the model to edit the plan; the edited plan must pass `check` (at most two repairs)."""
    system, user = fit_prompt(lambda cs, d: revise_prompt(plan, instruction, cs, d), cards, provider)
    evaluate = make_evaluator(plan, kb, check, [system])
    return repair_loop(provider, system, user, evaluate)
