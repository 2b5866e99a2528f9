"""The plan writer: one streamed request per session, each checked and repaired alone, provenance and fallbacks.

A loopback OpenAI-compatible server stands in for the hosted model; the coach's HTTP path is real,
streaming included. Replies are chosen from the session named in each request, because the
sessions are asked concurrently and arrive in any order.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fakeserver import FakeOpenAI, Pace, Reply, data_block, error, malformed_body, session_from_prompt, text, use_server

from coach.chains import session_prompt, write_plan
from coach.checks import check_plan
from coach.cli import cli
from coach.config import load_settings
from coach.models import Pair, Plan

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "pair.yaml"


@pytest.fixture(scope="module")
def draft(pair: Pair, retriever) -> Plan:
    from coach.planner import build_plan

    plan = build_plan(pair, retriever)
    assert check_plan(plan, pair, retriever.kb) == []
    return plan


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):
    with FakeOpenAI() as s:
        use_server(monkeypatch, s)
        yield s


def number_of(body: dict[str, Any]) -> int:
    return int(json.loads(data_block(body, "session"))["number"])


def per_session(answers: dict[int, list[Any]], default: Any = None):
    """A responder answering each session from its own queue (then `default`, or the brief-following model)."""
    lock = threading.Lock()
    fallback = default or session_from_prompt()

    def respond(body: dict[str, Any]) -> Reply:
        n = number_of(body)
        with lock:
            queue = answers.get(n) or []
            reply = queue.pop(0) if queue else fallback
        return reply(body) if callable(reply) else reply

    return respond


def tailored(out: dict) -> None:
    out["title"] = f"For Robert: session {out['number']}"


def one_agenda_line_short(out: dict) -> None:
    out["agenda"] = out["agenda"][:-1]


def write(pair: Pair, retriever, draft: Plan, **kw: Any) -> Plan:
    return write_plan(pair, retriever, load_settings(), draft, **kw)


def assert_same_structure(plan: Plan, draft: Plan) -> None:
    for s, d in zip(plan.sessions, draft.sessions, strict=True):
        assert (s.number, s.date, s.minutes, s.topics, s.goals, s.citations) == (
            d.number,
            d.date,
            d.minutes,
            d.topics,
            d.goals,
            d.citations,
        )
        assert [(a.minutes, a.lead) for a in s.agenda] == [(a.minutes, a.lead) for a in d.agenda]
        assert [p.asked_by for p in s.discussion_prompts] == [p.asked_by for p in d.discussion_prompts]


def test_every_session_is_written_by_its_own_request(server: FakeOpenAI, pair: Pair, retriever, draft: Plan) -> None:
    server.always(session_from_prompt(tailored))
    plan = write(pair, retriever, draft)
    assert check_plan(plan, pair, retriever.kb) == []
    assert [s.title for s in plan.sessions] == [f"For Robert: session {n}" for n in range(1, 7)]
    assert (plan.generated_by.engine, plan.generated_by.model) == ("openai", "fake-model")
    assert plan.generated_by.sessions == [1, 2, 3, 4, 5, 6]
    assert plan.attempts == 1 and plan.fallback_reason is None
    assert plan.usage["calls"] == 6 and plan.usage["prompt_tokens"] > 0 and plan.usage["completion_tokens"] > 0
    assert_same_structure(plan, draft)
    assert sorted(number_of(b) for b in server.requests) == [1, 2, 3, 4, 5, 6]
    for body in server.requests:
        # Streamed, structured, and carrying only the cards of its own session.
        assert body["stream"] is True
        assert body["response_format"]["json_schema"]["name"] == "session_text"
        session = draft.sessions[number_of(body) - 1]
        sent = {c["id"] for c in json.loads(data_block(body, "cards"))}
        assert sent == {t.id for t in session.topics}


def test_the_shared_check_in_and_wrap_up_stay_word_for_word(
    server: FakeOpenAI, pair: Pair, retriever, draft: Plan
) -> None:
    server.always(session_from_prompt())
    plan = write(pair, retriever, draft)
    for s, d in zip(plan.sessions, draft.sessions, strict=True):
        for a, b in zip(s.agenda, d.agenda, strict=True):
            if b.activity.startswith(("Check-in:", "Wrap-up:")):
                assert a.activity == b.activity
        rating = "Both: rate this session 1-5 and say what to change next time"
        if rating in d.reflection:
            assert s.reflection[-1] == rating


def test_concurrent_requests_are_bounded_by_coach_concurrency(
    pair: Pair, retriever, draft: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeOpenAI(pace=Pace(tokens_per_second=2000, ttft=0.05)) as s:
        use_server(monkeypatch, s, COACH_CONCURRENCY="2")
        s.always(session_from_prompt())
        plan = write(pair, retriever, draft)
    assert plan.generated_by.sessions == [1, 2, 3, 4, 5, 6]
    assert s.max_in_flight == 2


def test_progress_reports_each_session_as_it_starts_and_ends(
    server: FakeOpenAI, pair: Pair, retriever, draft: Plan
) -> None:
    server.always(per_session({4: [text("not json at all")] * 3}))
    events = []
    write(pair, retriever, draft, progress=events.append)
    ends = {e.number: e.state for e in events if e.state in ("written", "draft")}
    assert ends == {1: "written", 2: "written", 3: "written", 4: "draft", 5: "written", 6: "written"}
    started = Counter(e.number for e in events if e.state == "writing" and e.tokens == 0)
    assert set(started) == {1, 2, 3, 4, 5, 6}
    assert all(e.total == 6 for e in events)
    assert any(e.state == "repairing" and e.number == 4 for e in events)
    finished = next(e for e in events if e.number == 4 and e.state == "draft")
    assert finished.session == draft.sessions[3] and "failed its checks 3 times" in finished.note


def test_a_failed_session_is_fed_back_and_repaired_alone(
    server: FakeOpenAI, pair: Pair, retriever, draft: Plan
) -> None:
    server.always(per_session({2: [session_from_prompt(one_agenda_line_short)]}))
    plan = write(pair, retriever, draft)
    assert plan.fallback_reason is None and plan.generated_by.sessions == [1, 2, 3, 4, 5, 6]
    assert plan.attempts == 2 and plan.usage["calls"] == 7
    repairs = [b for b in server.requests if number_of(b) == 2]
    assert len(repairs) == 2
    messages = repairs[1]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    blocks = sum(1 for a in draft.sessions[1].agenda if not a.activity.startswith(("Check-in:", "Wrap-up:")))
    assert f"agenda has {blocks - 1} lines; it needs exactly {blocks}" in messages[-1]["content"]


def test_one_malformed_session_falls_back_alone_while_the_others_keep_the_models_text(
    server: FakeOpenAI, pair: Pair, retriever, draft: Plan
) -> None:
    server.always(per_session({3: [text("Sure! Here is session 3: {title: oops")] * 3}, session_from_prompt(tailored)))
    plan = write(pair, retriever, draft)
    assert check_plan(plan, pair, retriever.kb) == []
    assert plan.sessions[2] == draft.sessions[2]
    assert [s.title for i, s in enumerate(plan.sessions) if i != 2] == [
        f"For Robert: session {n}" for n in (1, 2, 4, 5, 6)
    ]
    assert plan.generated_by.sessions == [1, 2, 4, 5, 6]
    assert plan.fallback_reason is None  # the plan is the model's, except session 3
    assert any(
        n.startswith("Session 3 keeps the offline planner's text:") and "not a JSON object" in n for n in plan.notes
    )
    from coach.export import plan_warnings

    assert any(
        "wrote 5 of 6 sessions; session 3 keeps the offline planner's text" in w for w in plan_warnings(plan, pair)
    )


def test_a_question_repeated_across_sessions_sends_the_later_session_back(
    server: FakeOpenAI, pair: Pair, retriever, draft: Plan
) -> None:
    borrowed = draft.sessions[1].discussion_prompts[0].text

    def copy_from_session_2(out: dict) -> None:
        out["discussion_prompts"][0] = borrowed

    server.always(per_session({3: [session_from_prompt(copy_from_session_2)]}))
    plan = write(pair, retriever, draft)
    assert check_plan(plan, pair, retriever.kb) == []
    assert plan.generated_by.sessions == [1, 2, 3, 4, 5, 6]
    third = [b for b in server.requests if number_of(b) == 3]
    assert len(third) == 2
    assert "session 3: prompt repeats one from session 2" in third[1]["messages"][-1]["content"]


def test_json_in_chatter_or_code_fences_is_still_read(server: FakeOpenAI, pair: Pair, retriever, draft: Plan) -> None:
    brief = session_from_prompt()

    def fenced(body: dict) -> Reply:
        return text("Here you go:\n```json\n" + brief(body).content + "\n```\nEnjoy!")

    server.always(fenced)
    plan = write(pair, retriever, draft)
    assert plan.attempts == 1 and plan.generated_by.sessions == [1, 2, 3, 4, 5, 6]


def test_schema_violations_are_reported_back(server: FakeOpenAI, pair: Pair, retriever, draft: Plan) -> None:
    def no_title(out: dict) -> None:
        del out["title"]

    server.always(per_session({1: [session_from_prompt(no_title)]}))
    plan = write(pair, retriever, draft)
    assert plan.generated_by.sessions == [1, 2, 3, 4, 5, 6]
    first = [b for b in server.requests if number_of(b) == 1]
    assert "title: Field required" in first[1]["messages"][-1]["content"]


def test_http_retries_are_not_attempts(server: FakeOpenAI, pair: Pair, retriever, draft: Plan, monkeypatch) -> None:
    monkeypatch.setenv("COACH_CONCURRENCY", "1")
    server.push(error(429), error(500))
    server.always(session_from_prompt())
    plan = write(pair, retriever, draft)
    assert len(server.requests) == 8
    assert plan.attempts == 1 and plan.generated_by.sessions == [1, 2, 3, 4, 5, 6]


def test_server_errors_after_retries_fall_back_with_the_reason(
    server: FakeOpenAI, pair: Pair, retriever, draft: Plan
) -> None:
    server.always(error(500, "model crashed"))
    plan = write(pair, retriever, draft)
    assert len(server.requests) == 18  # six sessions, each one call and two client retries
    assert plan.sessions == draft.sessions
    assert plan.fallback_reason and plan.fallback_reason.startswith("no session passed (session ")
    assert "answered 500" in plan.fallback_reason and "offline draft" in plan.fallback_reason
    assert plan.generated_by.sessions == []


def test_malformed_body_falls_back(server: FakeOpenAI, pair: Pair, retriever, draft: Plan, monkeypatch) -> None:
    monkeypatch.setenv("COACH_MAX_RETRIES", "0")
    server.always(malformed_body())
    plan = write(pair, retriever, draft)
    assert plan.fallback_reason and plan.sessions == draft.sessions
    assert check_plan(plan, pair, retriever.kb) == []


# --------------------------------------------------------------------------- speed: slow is not dead


def test_a_slow_but_steady_model_is_not_timed_out(pair: Pair, retriever, draft: Plan, monkeypatch) -> None:
    # Each answer takes about 5 s at 100 tokens a second, more than twice the 2 s timeout: the timeout is
    # the longest silence allowed, and a token every 10 ms is never silent for long (2 s leaves room for
    # a busy test machine).
    with FakeOpenAI(pace=Pace(tokens_per_second=100, ttft=0.1, jitter=0.3, seed=7)) as s:
        use_server(monkeypatch, s, timeout="2", retries="0", COACH_CONCURRENCY="6")
        s.always(session_from_prompt())
        plan = write(pair, retriever, draft)
    assert plan.fallback_reason is None and plan.generated_by.sessions == [1, 2, 3, 4, 5, 6], plan.notes
    assert s.busy_seconds > 6 * 2  # the answers really took longer than the timeout


def test_a_stalled_model_is_timed_out_with_the_reason(pair: Pair, retriever, draft: Plan, monkeypatch) -> None:
    with FakeOpenAI(pace=Pace(tokens_per_second=500)) as s:
        use_server(monkeypatch, s, timeout="0.5", retries="0")
        stall = Reply(content="x" * 4000, stall_after=30, stall_seconds=3)
        s.always(per_session({5: [stall] * 3}))
        plan = write(pair, retriever, draft)
    assert plan.sessions[4] == draft.sessions[4]
    assert plan.generated_by.sessions == [1, 2, 3, 4, 6]
    note = next(n for n in plan.notes if n.startswith("Session 5 keeps"))
    assert "stopped sending for 0.5s after 30 tokens" in note and "COACH_TIMEOUT" in note
    # A stall is not retried: the same request would stall again.
    assert sum(1 for b in s.requests if number_of(b) == 5) == 1


def test_rate_limits_are_retried_by_the_client(pair: Pair, retriever, draft: Plan, monkeypatch) -> None:
    with FakeOpenAI(pace=Pace(tokens_per_second=0, rate_limit_every=3)) as s:
        use_server(monkeypatch, s, retries="2", COACH_CONCURRENCY="1")
        s.always(session_from_prompt())
        plan = write(pair, retriever, draft)
    assert plan.generated_by.sessions == [1, 2, 3, 4, 5, 6]
    assert len(s.requests) == 8  # every third request was a 429 and was retried


# --------------------------------------------------------------------------- caps


def test_a_token_cap_too_small_for_a_session_is_not_attempted(
    server: FakeOpenAI, pair: Pair, retriever, draft: Plan, monkeypatch
) -> None:
    monkeypatch.setenv("COACH_MAX_TOKENS", "100")
    plan = write(pair, retriever, draft)
    assert server.requests == []
    assert plan.attempts == 0
    assert plan.fallback_reason and "COACH_MAX_TOKENS" in plan.fallback_reason


def test_a_prompt_over_the_input_cap_is_not_sent(
    server: FakeOpenAI, pair: Pair, retriever, draft: Plan, monkeypatch
) -> None:
    monkeypatch.setenv("COACH_MAX_INPUT_CHARS", "3000")
    plan = write(pair, retriever, draft)
    assert server.requests == []
    assert plan.fallback_reason and "over the input cap of 3000" in plan.fallback_reason


def test_cards_shrink_to_fit_the_input_cap(server: FakeOpenAI, pair: Pair, retriever, draft: Plan, monkeypatch) -> None:
    from coach.chains import session_cards

    session = draft.sessions[0]
    full = sum(map(len, session_prompt(pair, draft, session, session_cards(session, retriever.kb))))
    monkeypatch.setenv("COACH_MAX_INPUT_CHARS", str(full - 500))
    monkeypatch.setenv("COACH_CONCURRENCY", "1")
    server.always(session_from_prompt())
    plan = write(pair, retriever, draft)
    first = next(b for b in server.requests if number_of(b) == 1)
    assert sum(len(m["content"]) for m in first["messages"]) <= full - 500
    assert plan.generated_by.sessions and 1 in plan.generated_by.sessions


def test_function_calling_streams_a_forced_tool_call(
    server: FakeOpenAI, pair: Pair, retriever, draft: Plan, monkeypatch
) -> None:
    monkeypatch.setenv("COACH_STRUCTURED_OUTPUT", "function_calling")
    server.always(per_session({2: [session_from_prompt(one_agenda_line_short)]}, session_from_prompt(tailored)))
    plan = write(pair, retriever, draft)
    body = server.requests[0]
    assert body["tools"][0]["function"]["name"] == "session_text"
    assert body["tool_choice"]["function"]["name"] == "session_text"
    assert plan.generated_by.sessions == [1, 2, 3, 4, 5, 6] and plan.sessions[1].title == "For Robert: session 2"


def test_json_mode_sends_the_schema_for_llama_cpp(
    server: FakeOpenAI, pair: Pair, retriever, draft: Plan, monkeypatch
) -> None:
    monkeypatch.setenv("COACH_STRUCTURED_OUTPUT", "json_mode")
    server.always(session_from_prompt())
    plan = write(pair, retriever, draft)
    fmt = server.requests[0]["response_format"]
    assert fmt["type"] == "json_object" and "discussion_prompts" in fmt["schema"]["properties"]
    assert plan.attempts == 1 and plan.fallback_reason is None


# --------------------------------------------------------------------------- through the CLI


def test_cli_plan_with_a_model_prints_tokens_and_price(
    server: FakeOpenAI, indexed_home: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("COACH_PRICE_PER_MTOK", "2.5")
    server.push(error(500))
    server.always(session_from_prompt(tailored))
    out = tmp_path / "plan.json"
    result = CliRunner().invoke(cli, ["plan", "--pair", str(EXAMPLE), "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["generated_by"] == {"engine": "openai", "model": "fake-model", "sessions": [1, 2, 3, 4, 5, 6]}
    assert data["attempts"] == 1 and data["fallback_reason"] is None
    assert data["sessions"][0]["title"] == "For Robert: session 1"
    usage = data["usage"]
    line = next(ln for ln in result.stderr.splitlines() if "wrote 6 of 6 sessions" in ln)
    assert f"{usage['prompt_tokens']:,} prompt + {usage['completion_tokens']:,} completion tokens" in line
    price = usage["total_tokens"] * 2.5 / 1_000_000
    assert f"about ${price:.4f} at $2.5 per million tokens" in line
    # Not a terminal: no progress bar in the output a script reads.
    assert "writing sessions" not in result.output


def test_cli_model_option_overrides_the_environment(server: FakeOpenAI, indexed_home: Path) -> None:
    result = CliRunner().invoke(cli, ["plan", "--pair", str(EXAMPLE), "--format", "json", "--model", "offline"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["generated_by"] == {"engine": "offline", "model": "cards"}  # offline JSON as before
    assert server.requests == []


def test_cli_wrong_key_is_one_line_exit_1(indexed_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeOpenAI(api_key="sk-good") as s:
        use_server(monkeypatch, s, OPENAI_API_KEY="sk-bad")
        result = CliRunner().invoke(cli, ["plan", "--pair", str(EXAMPLE), "--format", "json"])
    assert result.exit_code == 1
    assert result.output.startswith("error: the model server at") and "rejected the API key (401)" in result.output
    assert result.output.count("\n") == 1
