"""Model chains: the plan writer with its check-and-repair loop, the revision chain and streamed chat.

Every model answer is validated before anyone sees it. A plan that fails `check_plan` goes back
to the model with the list of problems, at most twice; after that the offline draft is used and
the plan says why (`fallback_reason`), how often the model was asked (`attempts`) and how many
tokens it took (`usage`). Answers that cannot be parsed count as failed attempts the same way.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError

from coach.errors import CoachError, field_path
from coach.models import (
    MENTOR_DOMAINS,
    SENIOR_DOMAINS,
    AgendaItem,
    Card,
    Citation,
    DiscussionPrompt,
    Lead,
    Pair,
    Plan,
    PlanTopic,
    Session,
)
from coach.providers import ModelFailure, Provider
from coach.safety import LeakGuard, fence, fence_json, pair_for_model

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage
    from langchain_core.runnables import Runnable

    from coach.config import Settings
    from coach.knowledge import KnowledgeBase
    from coach.retrieval import Retriever

#: First answer plus at most two repairs.
MAX_ATTEMPTS = 3
#: How many problems one repair message lists.
MAX_PROBLEMS_SHOWN = 12
#: Cap on a chat answer's length in tokens (the provider's own cap still applies).
CHAT_MAX_TOKENS = 1024


# --------------------------------------------------------------------------- what the model writes


class AgendaOut(BaseModel):
    """One timed block; the blocks of a session add up to its minutes."""

    minutes: int = Field(description="whole minutes")
    activity: str
    lead: Lead = Field(description="who leads it: mentor (junior), mentee (senior leader) or both")


class PromptOut(BaseModel):
    """A discussion question one side asks the other."""

    text: str
    asked_by: Lead


class SessionOut(BaseModel):
    """One session of the curriculum."""

    number: int
    date: dt.date = Field(description="YYYY-MM-DD")
    title: str
    minutes: int
    topic_ids: list[str] = Field(description="ids of the topic cards this session uses")
    objectives: list[str]
    pre_work: list[str]
    agenda: list[AgendaOut]
    discussion_prompts: list[PromptOut]
    reflection: list[str]
    goals: list[int] = Field(description="0-based indexes of the mentee goals this session serves")


class PlanOut(BaseModel):
    """A reverse-mentoring curriculum: ground rules, success measures and the sessions in order."""

    ground_rules: list[str]
    success_measures: list[str]
    sessions: list[SessionOut]


SCHEMA_NAME = "curriculum_plan"


@functools.cache
def _plan_schema_json() -> str:
    schema = PlanOut.model_json_schema()
    schema["title"] = SCHEMA_NAME
    return json.dumps(schema)


def plan_schema() -> dict[str, Any]:
    """The JSON schema of the plan the model writes (a fresh copy; generating it is the slow part)."""
    return json.loads(_plan_schema_json())  # type: ignore[no-any-return]


def plan_to_out(plan: Plan) -> dict[str, Any]:
    """A plan in the compact form the model reads and writes (topics as card ids)."""
    return {
        "ground_rules": plan.ground_rules,
        "success_measures": plan.success_measures,
        "sessions": [
            {
                "number": s.number,
                "date": s.date.isoformat(),
                "title": s.title,
                "minutes": s.minutes,
                "topic_ids": [t.id for t in s.topics],
                "objectives": s.objectives,
                "pre_work": s.pre_work,
                "agenda": [a.model_dump() for a in s.agenda],
                "discussion_prompts": [p.model_dump() for p in s.discussion_prompts],
                "reflection": s.reflection,
                "goals": s.goals,
            }
            for s in plan.sessions
        ],
    }


def hydrate(out: PlanOut, base: Plan, kb: KnowledgeBase) -> tuple[Plan, list[str]]:
    """Turn the model's plan into a Plan: card titles, domains and sources come from the cards, not the model."""
    problems: list[str] = []
    sessions: list[Session] = []
    for i, s in enumerate(out.sessions):
        topics: list[PlanTopic] = []
        citations: list[Citation] = []
        for tid in dict.fromkeys(s.topic_ids):
            card = kb.get(tid)
            if card is None:
                problems.append(f"session {i + 1}: topic {tid!r} is not a card in the knowledge base")
                continue
            topics.append(PlanTopic(id=card.id, title=card.title, domain=card.domain))
            citations.append(Citation(topic_id=card.id, source=card.source))
        bad_minutes = [a.minutes for a in s.agenda if a.minutes < 1]
        if bad_minutes:
            problems.append(f"session {i + 1}: every agenda block needs at least 1 minute")
        sessions.append(
            Session(
                number=s.number,
                date=s.date,
                title=s.title,
                minutes=max(1, s.minutes),
                topics=topics,
                objectives=s.objectives,
                pre_work=s.pre_work,
                agenda=[AgendaItem(minutes=max(1, a.minutes), activity=a.activity, lead=a.lead) for a in s.agenda],
                discussion_prompts=[DiscussionPrompt(text=p.text, asked_by=p.asked_by) for p in s.discussion_prompts],
                reflection=s.reflection,
                citations=citations,
                goals=sorted(set(s.goals)),
            )
        )
    if not out.ground_rules:
        problems.append("ground_rules is empty: keep the draft's ground rules or write your own")
    plan = base.model_copy(
        update={
            "ground_rules": out.ground_rules,
            "success_measures": out.success_measures,
            "sessions": sessions,
            "fallback_reason": None,
        }
    )
    return plan, problems


# --------------------------------------------------------------------------- prompt material


#: How much of each card a prompt carries, most first; the coach steps down until the prompt fits.
DETAIL_LEVELS = ("full", "short", "minimal")


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


# --------------------------------------------------------------------------- calling the model


@dataclass
class Usage:
    """Token counts summed over calls."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0

    def add(self, meta: dict[str, Any] | None) -> None:
        """Count one call and its usage metadata (LangChain `usage_metadata`)."""
        self.calls += 1
        if meta:
            self.prompt_tokens += int(meta.get("input_tokens") or 0)
            self.completion_tokens += int(meta.get("output_tokens") or 0)

    def as_dict(self) -> dict[str, int]:
        """The form stored on a Plan."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "calls": self.calls,
        }


@dataclass
class StructuredResult:
    """One structured-output call: the parsed JSON (or why not) and the raw text for a repair."""

    data: dict[str, Any] | None
    error: str | None
    text: str
    usage: dict[str, Any] | None


def _extract_json(text: str) -> dict[str, Any] | None:
    """The outermost JSON object in free text (code fences and chatter around it tolerated)."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        value = json.loads(text[start : end + 1])
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def structured_model(provider: Provider, schema: dict[str, Any]) -> Runnable[Any, Any]:
    """The chat model bound for structured output the way `with_structured_output` binds it.

    json_schema: `response_format` with the schema (OpenAI proper); json_mode: `json_object` plus the
    schema, which llama.cpp turns into a grammar; function_calling: one forced tool call, which
    llama.cpp also constrains with a grammar (it answers 500 to json_schema). The answer is parsed
    here rather than by `with_structured_output(include_raw=True)`, whose parallel map starts
    threads on every call (measurable overhead) and which hides the raw text a repair needs.
    Bound models are cached on the provider.
    """
    name = schema.get("title", SCHEMA_NAME)
    key = ("structured", provider.method, name)
    if key not in provider.cache:
        llm = provider.chat_model()
        if provider.method == "json_schema":
            spec = {"name": name, "description": schema.get("description", ""), "schema": schema, "strict": False}
            bound: Runnable[Any, Any] = llm.bind(response_format={"type": "json_schema", "json_schema": spec})
        elif provider.method == "json_mode":
            bound = llm.bind(response_format={"type": "json_object", "schema": schema})
        else:
            bound = llm.bind_tools([schema], tool_choice=name, parallel_tool_calls=False)
        provider.cache[key] = bound
    return provider.cache[key]  # type: ignore[no-any-return]


def structured_call(provider: Provider, messages: list[BaseMessage], schema: dict[str, Any]) -> StructuredResult:
    """Ask for JSON matching `schema` with the engine's structured-output method; never raises on bad JSON."""
    from langchain_core.utils.json import parse_json_markdown

    raw = structured_model(provider, schema).invoke(messages)
    text = _raw_text(raw)
    usage = getattr(raw, "usage_metadata", None)
    for call in getattr(raw, "tool_calls", None) or []:
        if isinstance(call.get("args"), dict) and call["args"]:
            return StructuredResult(call["args"], None, text, usage)
    # The outermost JSON object in what came back (chatter, code fences, invalid tool arguments).
    found = _extract_json(text)
    if found is not None:
        return StructuredResult(found, None, text, usage)
    error = "no JSON object in the answer"
    if text.strip():
        # LangChain's lenient parser closes a truncated object, so the repair can name what is missing.
        try:
            value = parse_json_markdown(text)
            if isinstance(value, dict) and value:
                return StructuredResult(value, None, text, usage)
        except Exception as exc:
            error = _short(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, 120)
    return StructuredResult(None, error, text, usage)


def _raw_text(raw: Any) -> str:
    """Everything the model wrote: tool-call arguments (valid or not) and content."""
    parts: list[str] = []
    for call in getattr(raw, "tool_calls", None) or []:
        parts.append(json.dumps(call.get("args", {})))
    for call in getattr(raw, "invalid_tool_calls", None) or []:
        parts.append(str(call.get("args") or ""))
    content = getattr(raw, "content", "")
    if isinstance(content, str):
        parts.append(content)
    elif isinstance(content, list):
        parts += [c if isinstance(c, str) else str(c.get("text", "")) for c in content]
    return "\n".join(p for p in parts if p)


def _short(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def validation_problems(exc: ValidationError, limit: int = MAX_PROBLEMS_SHOWN) -> list[str]:
    """Pydantic errors as `sessions[2].agenda[0].minutes: Input should be a valid integer`."""
    out = []
    for err in exc.errors()[:limit]:
        out.append(f"{field_path(tuple(err['loc'])) or 'plan'}: {err['msg']}")
    return out


@dataclass
class LoopOutcome:
    """How a check-and-repair loop ended."""

    plan: Plan | None
    problems: list[str] = field(default_factory=list)
    attempts: int = 0
    usage: Usage = field(default_factory=Usage)
    failure: str | None = None

    def reason(self, what: str) -> str:
        """Why no valid plan came out, in one line."""
        first = self.problems[0] if self.problems else "unknown problem"
        more = f" and {len(self.problems) - 1} more" if len(self.problems) > 1 else ""
        if self.failure:
            if self.problems:
                return f"{what} failed its checks ({first}{more}), then {self.failure}"
            return self.failure
        return f"{what} failed its checks {self.attempts} times (last: {first}{more})"


Evaluate = Callable[[dict[str, Any]], tuple[Plan | None, list[str]]]


def repair_loop(
    provider: Provider,
    system: str,
    user: str,
    evaluate: Evaluate,
    max_attempts: int = MAX_ATTEMPTS,
) -> LoopOutcome:
    """Ask, check, and feed the problems back until the answer passes or the attempts run out.

    Connection and key problems raise CoachError; timeouts, 429/5xx after the client's retries and
    refused requests end the loop with `failure` set, so the caller can fall back.
    """
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    from coach.prompts import render

    base: list[BaseMessage] = [SystemMessage(content=system), HumanMessage(content=user)]
    if _size(base) > provider.max_input_chars:
        return LoopOutcome(
            None,
            failure=f"the prompt is {_size(base)} characters, over the input cap of {provider.max_input_chars} "
            "(COACH_MAX_INPUT_CHARS)",
        )
    outcome = LoopOutcome(None)
    messages = base
    schema = plan_schema()
    for attempt in range(1, max_attempts + 1):
        outcome.attempts = attempt
        try:
            result = structured_call(provider, messages, schema)
        except Exception as exc:
            err = provider.failure(exc)
            if not isinstance(err, ModelFailure):
                raise err from exc
            outcome.failure = str(err)
            return outcome
        outcome.usage.add(result.usage)
        if result.data is None:
            problems = [f"the answer was not a JSON plan ({result.error})"]
        else:
            plan, problems = evaluate(result.data)
            if plan is not None and not problems:
                outcome.plan, outcome.problems = plan, []
                return outcome
        outcome.problems = problems
        if attempt < max_attempts:
            shown = problems[:MAX_PROBLEMS_SHOWN]
            if len(problems) > len(shown):
                shown.append(f"... and {len(problems) - len(shown)} more")
            # Problems quote plan text (prompts, goals), so they are fenced like any other data.
            listed = fence("problems", "\n".join(f"- {p}" for p in shown))
            repair = HumanMessage(content=render("plan_repair", errors=listed))
            # Keep only the latest answer: the conversation stays within the input cap.
            room = provider.max_input_chars - _size([*base, repair])
            previous = result.text[: max(0, room)]
            messages = [*base, AIMessage(content=previous), repair] if previous else [*base, repair]
    return outcome


def _size(messages: list[BaseMessage]) -> int:
    return sum(len(m.content) if isinstance(m.content, str) else len(str(m.content)) for m in messages)


def fit_prompt(
    build: Callable[[list[Card], str], tuple[str, str]], cards: list[Card], provider: Provider
) -> tuple[str, str]:
    """The richest prompt that fits the input cap: less detail per card first, then fewer cards.

    Small local models start at "short" detail: their prompt speed, not only their context, is the limit.
    """
    levels = DETAIL_LEVELS[1:] if provider.compact else DETAIL_LEVELS
    for detail in levels:
        system, user = build(cards, detail)
        if len(system) + len(user) <= provider.max_input_chars:
            return system, user
    while len(cards) > 1:
        # The draft's own cards come first and are kept longest.
        cards = cards[: max(1, len(cards) * 2 // 3)]
        system, user = build(cards, "minimal")
        if len(system) + len(user) <= provider.max_input_chars:
            break
    return system, user


def make_evaluator(base: Plan, kb: KnowledgeBase, check: Callable[[Plan], list[str]], secrets: list[str]) -> Evaluate:
    """Parse, hydrate, refuse echoed instructions, then run the plan checks."""
    guard = LeakGuard(secrets)

    def evaluate(data: dict[str, Any]) -> tuple[Plan | None, list[str]]:
        try:
            out = PlanOut.model_validate(data)
        except ValidationError as exc:
            return None, validation_problems(exc)
        if guard.leaks(json.dumps(data)):
            return None, ["the plan repeats the coach's instructions; write only the plan for this pair"]
        plan, problems = hydrate(out, base, kb)
        return plan, problems + check(plan)

    return evaluate


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


# --------------------------------------------------------------------------- chat


def stream_chat(provider: Provider, system: str, user: str) -> Iterator[str]:
    """Stream the model's answer text; raises CoachError or ModelFailure (mapped) on failure."""
    from langchain_core.messages import HumanMessage, SystemMessage

    if len(system) + len(user) > provider.max_input_chars:
        raise ModelFailure(
            f"the question and its context are {len(system) + len(user)} characters, over the input cap of "
            f"{provider.max_input_chars} (COACH_MAX_INPUT_CHARS)"
        )
    llm = provider.chat_model(max_tokens=CHAT_MAX_TOKENS, streaming=True)
    try:
        for chunk in llm.stream([SystemMessage(content=system), HumanMessage(content=user)]):
            text = chunk.content if isinstance(chunk.content, str) else ""
            if text:
                yield text
    except CoachError:
        raise
    except Exception as exc:
        raise provider.failure(exc) from exc


_CITATION = re.compile(r"\[([a-z0-9]+(?:-[a-z0-9]+)+)\]")


def cited_ids(text: str) -> list[str]:
    """Card ids cited as [card-id], in order of first appearance."""
    return list(dict.fromkeys(_CITATION.findall(text)))
