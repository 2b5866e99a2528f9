"""Structured model calls and the check-and-repair loop: usage counts, prompt fitting, answer evaluation.

Every model answer is validated before anyone sees it. A plan that fails its checks goes back
to the model with the list of problems, at most twice; after that the caller falls back to the
offline draft and says why (`LoopOutcome.reason`), how often the model was asked (`attempts`) and
how many tokens it took (`usage`). Answers that cannot be parsed count as failed attempts the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from coach.errors import field_path
from coach.models import Card, Plan
from coach.plan_schema import SCHEMA_NAME, PlanOut, hydrate, plan_schema
from coach.providers import ModelFailure, Provider
from coach.safety import LeakGuard, fence

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage
    from langchain_core.runnables import Runnable

    from coach.knowledge import KnowledgeBase

#: First answer plus at most two repairs.
MAX_ATTEMPTS = 3
#: How many problems one repair message lists.
MAX_PROBLEMS_SHOWN = 12
#: How much of each card a prompt carries, most first; the coach steps down until the prompt fits.
DETAIL_LEVELS = ("full", "short", "minimal")


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


def structured_model(
    provider: Provider, schema: dict[str, Any], max_tokens: int | None = None, streaming: bool = False
) -> Runnable[Any, Any]:
    """The chat model bound for structured output the way `with_structured_output` binds it.

    json_schema: `response_format` with the schema (OpenAI proper); json_mode: `json_object` plus the
    schema, which llama.cpp turns into a grammar; function_calling: one forced tool call, which
    llama.cpp also constrains with a grammar (it answers 500 to json_schema). The answer is parsed
    here rather than by `with_structured_output(include_raw=True)`, whose parallel map starts
    threads on every call (measurable overhead) and which hides the raw text a repair needs.
    Bound models are cached on the provider (per schema, cap and streaming).
    """
    name = schema.get("title", SCHEMA_NAME)
    key = ("structured", provider.method, name, max_tokens, streaming)
    if key not in provider.cache:
        llm = provider.chat_model(max_tokens, streaming=streaming)
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
    return parse_structured(structured_model(provider, schema).invoke(messages))


def parse_structured(raw: Any) -> StructuredResult:
    """The JSON object in a model's answer (tool call, content, chatter or a truncated object), or why not."""
    from langchain_core.utils.json import parse_json_markdown

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


def stream_structured(
    provider: Provider,
    messages: list[BaseMessage],
    schema: dict[str, Any],
    max_tokens: int | None = None,
    on_token: Callable[[int], None] | None = None,
) -> StructuredResult:
    """One streamed structured-output request; a silence longer than the timeout raises ModelFailure.

    Usage comes from the server's final chunk when it sends one; otherwise it is estimated (about
    four characters a prompt token, one streamed chunk a completion token).
    """
    bound = structured_model(provider, schema, max_tokens, streaming=True)
    acc: Any = None
    chunks = 0
    try:
        for chunk in bound.stream(messages):
            acc = chunk if acc is None else acc + chunk
            chunks += 1
            if on_token is not None:
                on_token(chunks)
    except Exception as exc:
        if type(exc).__name__ == "LengthFinishReasonError":
            cap = f" of {max_tokens} tokens" if max_tokens else ""
            raise ModelFailure(f"the model's answer ran past its output cap{cap} before the JSON was complete") from exc
        if _is_timeout(exc):
            raise ModelFailure(
                f"the model at {provider.where} stopped sending for {provider.settings.timeout:g}s "
                f"after {max(0, chunks - 1)} tokens (COACH_TIMEOUT is the longest silence allowed)"
            ) from exc
        raise
    if acc is None:
        return StructuredResult(None, "the model sent an empty answer", "", None)
    result = parse_structured(acc)
    if not result.usage:
        prompt = sum(len(m.content) if isinstance(m.content, str) else len(str(m.content)) for m in messages)
        result.usage = {"input_tokens": prompt // 4 + 1, "output_tokens": max(0, chunks - 1)}
    return result


def _is_timeout(exc: BaseException) -> bool:
    import httpx
    import openai

    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, openai.APITimeoutError | httpx.TimeoutException | TimeoutError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


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


def _usage_from_error(exc: BaseException) -> dict[str, Any] | None:
    """Token counts an OpenAI-style error carries (`completion.usage`), looking through its causes."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return None
        usage = getattr(getattr(seen, "completion", None), "usage", None)
        if usage is not None:
            return {
                "input_tokens": getattr(usage, "prompt_tokens", 0),
                "output_tokens": getattr(usage, "completion_tokens", 0),
            }
        seen = seen.__cause__ or seen.__context__
    return None


def _reached_model(exc: BaseException) -> bool:
    """Whether the model answered before the call failed (not a refused connection or a timeout)."""
    return _usage_from_error(exc) is not None


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
            # Streamed: COACH_TIMEOUT then limits silence, not the time a long answer takes.
            result = stream_structured(provider, messages, schema)
        except Exception as exc:
            err = provider.failure(exc)
            if not isinstance(err, ModelFailure):
                raise err from exc
            # A call that reached the model and failed there (e.g. its output hit the length limit) still
            # happened and still cost tokens: count it, with the usage the error carries when it does.
            if _reached_model(exc):
                outcome.usage.add(_usage_from_error(exc))
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
