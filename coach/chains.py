"""Model chains: the plan writer and the revision chain, with the prompts and rules they send.

Both validate every answer in the check-and-repair loop of `coach.repair`; the offline planner or
editor takes over when the model's plan does not pass. Names other modules import from here but that
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
from coach.models import MENTOR_DOMAINS, SENIOR_DOMAINS, Card, Pair, Plan
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


def plan_rules(pair: Pair) -> str:
    """The hard rules for a new plan, spelled out with this pair's numbers."""
    from coach.checks import CLOSING_CARD, KICKOFF_CARD, session_date

    prog = pair.program
    dates = ", ".join(f"{i + 1}: {session_date(prog.start, prog.cadence, i).isoformat()}" for i in range(prog.sessions))
    return "\n".join(
        [
            f"- Exactly {prog.sessions} sessions, numbered 1 to {prog.sessions}.",
            f"- Session dates ({prog.cadence}): {dates}.",
            f"- Every session is {prog.minutes} minutes and its agenda minutes add up to exactly {prog.minutes}.",
            *_common_rules(KICKOFF_CARD, CLOSING_CARD),
            _goal_rule(len(pair.mentee.goals), "the mentee's goals in the pair block"),
        ]
    )


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


def plan_cards(draft: Plan, retriever: Retriever, pair: Pair, limit: int = 24) -> list[Card]:
    """The draft's cards first, then a few more that match the goals, for the model to choose from."""
    kb = retriever.kb
    ids = list(dict.fromkeys(t.id for s in draft.sessions for t in s.topics))
    try:
        for hits in retriever.search_many(pair.mentee.goals, k=3, domains=set(MENTOR_DOMAINS)):
            ids += [h.card.id for h in hits]
    except Exception:  # extra options are a nicety; the draft's cards are enough
        pass
    cards = [c for c in (kb.get(i) for i in dict.fromkeys(ids)) if c is not None]
    return cards[:limit]


def plan_prompt(pair: Pair, cards: list[Card], draft: Plan, detail: str = "full") -> tuple[str, str]:
    """System and user messages for the plan writer."""
    from coach.prompts import render

    system = render("plan_system")
    user = render(
        "plan_user",
        rules=plan_rules(pair),
        pair=fence_json("pair", pair_for_model(pair)),
        cards=cards_block(cards, detail),
        draft=fence_json("draft", plan_to_out(draft)),
    )
    return system, user


def write_plan(
    pair: Pair,
    retriever: Retriever,
    settings: Settings,
    draft: Plan,
    *,
    model: str | None = None,
    provider: Provider | None = None,
) -> Plan:
    """The plan written by the configured model, checked and repaired, or the offline draft with the reason.

    Args:
        pair: the mentoring pair.
        retriever: gives the cards (`retriever.kb`) and goal matches.
        settings: caps, timeout and `COACH_MODEL`.
        draft: the offline planner's plan for the same pair (the fallback).
        model: overrides `COACH_MODEL` (the `--model` option).
        provider: an already open provider (the local server stays up between calls).
    """
    if provider is None:
        from coach.providers import open_provider

        with open_provider(settings, model) as opened:
            if opened is None:
                return draft
            return _write_plan(pair, retriever, draft, opened)
    return _write_plan(pair, retriever, draft, provider)


def _write_plan(pair: Pair, retriever: Retriever, draft: Plan, provider: Provider) -> Plan:
    from coach.checks import check_plan

    kb = retriever.kb
    need = estimate_tokens(json.dumps(plan_to_out(draft), separators=(",", ":")))
    if need > provider.max_tokens:
        # Asking would only produce a truncated plan: say so at once instead of waiting for it.
        reason = (
            f"a {len(draft.sessions)}-session plan needs about {need} output tokens, more than the cap of "
            f"{provider.max_tokens} for {provider.model} (COACH_MAX_TOKENS); used the offline draft"
        )
        return _fallback(draft, provider, reason, 0, Usage())
    cards = plan_cards(draft, retriever, pair)
    system, user = fit_prompt(lambda cs, d: plan_prompt(pair, cs, draft, d), cards, provider)
    evaluate = make_evaluator(draft, kb, lambda p: check_plan(p, pair, kb), [system])
    outcome = repair_loop(provider, system, user, evaluate)
    if outcome.plan is not None:
        return outcome.plan.model_copy(
            update={
                "generated_by": provider.generated_by(),
                "attempts": outcome.attempts,
                "usage": outcome.usage.as_dict(),
                "fallback_reason": None,
            }
        )
    reason = outcome.reason("the model's plan") + "; used the offline draft"
    return _fallback(draft, provider, reason, outcome.attempts, outcome.usage)


def _fallback(draft: Plan, provider: Provider, reason: str, attempts: int, usage: Usage) -> Plan:
    """The offline draft, marked with the model that was asked and why its plan was not used."""
    return draft.model_copy(
        update={
            "generated_by": provider.generated_by(),
            "attempts": attempts,
            "usage": usage.as_dict(),
            "fallback_reason": reason,
            "notes": [*draft.notes, f"Written by the offline planner: {reason}."],
        }
    )


def estimate_tokens(text: str) -> int:
    """A slightly conservative token count for JSON-heavy text (about 3.8 characters a token; SmolLM2 measures 4.2)."""
    return int(len(text) / 3.8) + 1


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
