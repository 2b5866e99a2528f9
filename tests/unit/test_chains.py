"""The plan writer: structured output, check-and-repair loop, fallback to the offline draft, provenance.

A loopback OpenAI-compatible server stands in for the hosted model; the coach's HTTP path is real.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fakeserver import FakeOpenAI, data_block, error, malformed_body, plan_from_prompt, slow, text, use_server

from coach.chains import write_plan
from coach.checks import check_plan
from coach.cli import cli
from coach.config import load_settings
from coach.models import Pair, Plan
from coach.planner import build_plan

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "pair.yaml"


@pytest.fixture(scope="module")
def draft(pair: Pair, retriever) -> Plan:
    plan = build_plan(pair, retriever)
    assert check_plan(plan, pair, retriever.kb) == []
    return plan


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):
    with FakeOpenAI() as s:
        # A 6-session plan is ~6,000 tokens of JSON: give the cap room.
        use_server(monkeypatch, s, COACH_MAX_TOKENS="20000")
        yield s


def tailored(plan: dict) -> None:
    for s in plan["sessions"]:
        s["title"] = "For Robert: " + s["title"]


def wrong_minutes(plan: dict) -> None:
    plan["sessions"][1]["agenda"][0]["minutes"] += 5


def unknown_topic(plan: dict) -> None:
    plan["sessions"][2]["topic_ids"].append("made-up-card")


def write(pair: Pair, retriever, draft: Plan) -> Plan:
    return write_plan(pair, retriever, load_settings(), draft)


def test_first_valid_answer_is_used_with_provenance(server: FakeOpenAI, pair: Pair, retriever, draft: Plan) -> None:
    server.push(plan_from_prompt(tailored))
    plan = write(pair, retriever, draft)
    assert check_plan(plan, pair, retriever.kb) == []
    assert all(s.title.startswith("For Robert: ") for s in plan.sessions)
    assert (plan.generated_by.engine, plan.generated_by.model) == ("openai", "fake-model")
    assert plan.attempts == 1 and plan.fallback_reason is None
    assert plan.usage["calls"] == 1 and plan.usage["prompt_tokens"] > 0 and plan.usage["completion_tokens"] > 0
    assert len(server.requests) == 1
    # Card facts come from the cards, not from the model: sources are the card files.
    for s in plan.sessions:
        for c in s.citations:
            assert (ROOT / c.source).is_file()
    # The structured-output request carries the plan schema.
    fmt = server.requests[0]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "curriculum_plan"


def test_failed_check_is_fed_back_and_repaired(server: FakeOpenAI, pair: Pair, retriever, draft: Plan) -> None:
    server.push(plan_from_prompt(wrong_minutes), plan_from_prompt(tailored))
    plan = write(pair, retriever, draft)
    assert plan.attempts == 2 and plan.fallback_reason is None
    assert check_plan(plan, pair, retriever.kb) == []
    repair = server.requests[1]["messages"]
    assert [m["role"] for m in repair] == ["system", "user", "assistant", "user"]
    assert "session 2: agenda minutes add up to 50, expected 45" in repair[-1]["content"]
    # Its own answer is shown back, cut to keep the conversation within the input cap.
    assert repair[2]["content"].startswith('{"ground_rules"')
    assert sum(len(m["content"]) for m in repair) <= load_settings().max_input_chars
    assert plan.usage["calls"] == 2


def test_two_failed_repairs_fall_back_to_the_draft(server: FakeOpenAI, pair: Pair, retriever, draft: Plan) -> None:
    server.always(plan_from_prompt(wrong_minutes))
    plan = write(pair, retriever, draft)
    assert len(server.requests) == 3  # the first answer and at most two repairs
    assert plan.attempts == 3
    assert plan.sessions == draft.sessions
    assert check_plan(plan, pair, retriever.kb) == []
    assert plan.fallback_reason is not None
    assert "failed its checks 3 times" in plan.fallback_reason and "agenda minutes add up to 50" in plan.fallback_reason
    assert plan.generated_by.model == "fake-model"  # who was asked; fallback_reason says whose plan it is
    assert any("offline planner" in n for n in plan.notes)


def test_garbage_counts_as_a_failed_attempt(server: FakeOpenAI, pair: Pair, retriever, draft: Plan) -> None:
    server.push(text("Sure! Here is your plan: {sessions: [oops"), plan_from_prompt())
    plan = write(pair, retriever, draft)
    assert plan.attempts == 2 and plan.fallback_reason is None
    assert "not a JSON plan" in server.requests[1]["messages"][-1]["content"]


def test_json_in_chatter_or_code_fences_is_still_read(server: FakeOpenAI, pair: Pair, retriever, draft: Plan) -> None:
    def fenced(body: dict):
        return text("Here you go:\n```json\n" + data_block(body, "draft") + "\n```\nEnjoy!")

    server.push(fenced)
    plan = write(pair, retriever, draft)
    assert plan.attempts == 1 and plan.fallback_reason is None


def test_unknown_card_is_reported_back(server: FakeOpenAI, pair: Pair, retriever, draft: Plan) -> None:
    server.push(plan_from_prompt(unknown_topic), plan_from_prompt())
    plan = write(pair, retriever, draft)
    assert plan.attempts == 2
    assert "topic 'made-up-card' is not a card" in server.requests[1]["messages"][-1]["content"]


def test_schema_violations_are_reported_back(server: FakeOpenAI, pair: Pair, retriever, draft: Plan) -> None:
    def bad_lead(plan: dict) -> None:
        plan["sessions"][0]["agenda"][0]["lead"] = "ceo"

    server.push(plan_from_prompt(bad_lead), plan_from_prompt())
    plan = write(pair, retriever, draft)
    assert plan.attempts == 2
    assert "sessions[0].agenda[0].lead" in server.requests[1]["messages"][-1]["content"]


def test_http_retries_are_not_attempts(server: FakeOpenAI, pair: Pair, retriever, draft: Plan) -> None:
    server.push(error(429), error(500), plan_from_prompt())
    plan = write(pair, retriever, draft)
    assert len(server.requests) == 3
    assert plan.attempts == 1 and plan.fallback_reason is None


def test_server_errors_after_retries_fall_back(server: FakeOpenAI, pair: Pair, retriever, draft: Plan) -> None:
    server.always(error(500, "model crashed"))
    plan = write(pair, retriever, draft)
    assert len(server.requests) == 3  # one call, two client retries
    assert plan.sessions == draft.sessions
    assert plan.fallback_reason and "answered 500" in plan.fallback_reason and "offline draft" in plan.fallback_reason


def test_malformed_body_falls_back(server: FakeOpenAI, pair: Pair, retriever, draft: Plan, monkeypatch) -> None:
    monkeypatch.setenv("COACH_MAX_RETRIES", "0")
    server.push(malformed_body())
    plan = write(pair, retriever, draft)
    assert plan.attempts == 1 and plan.fallback_reason
    assert check_plan(plan, pair, retriever.kb) == []


def test_slow_model_times_out_and_falls_back(
    server: FakeOpenAI, pair: Pair, retriever, draft: Plan, monkeypatch
) -> None:
    monkeypatch.setenv("COACH_TIMEOUT", "0.5")
    monkeypatch.setenv("COACH_MAX_RETRIES", "0")
    server.push(slow(3.0, text("too late")))
    plan = write(pair, retriever, draft)
    assert plan.fallback_reason and "did not answer within 0.5s" in plan.fallback_reason
    assert plan.sessions == draft.sessions


def test_plan_too_big_for_the_token_cap_is_not_attempted(
    server: FakeOpenAI, pair: Pair, retriever, draft: Plan, monkeypatch
) -> None:
    monkeypatch.setenv("COACH_MAX_TOKENS", "1000")
    plan = write(pair, retriever, draft)
    assert server.requests == []
    assert plan.attempts == 0
    assert plan.fallback_reason and "COACH_MAX_TOKENS" in plan.fallback_reason


def test_prompt_over_the_input_cap_is_not_sent(
    server: FakeOpenAI, pair: Pair, retriever, draft: Plan, monkeypatch
) -> None:
    monkeypatch.setenv("COACH_MAX_INPUT_CHARS", "3000")
    plan = write(pair, retriever, draft)
    assert server.requests == []
    assert plan.fallback_reason and "over the input cap of 3000" in plan.fallback_reason


def test_cards_shrink_to_fit_the_input_cap(server: FakeOpenAI, pair: Pair, retriever, draft: Plan, monkeypatch) -> None:
    from coach.chains import plan_cards, plan_prompt

    full = sum(map(len, plan_prompt(pair, plan_cards(draft, retriever, pair), draft)))
    monkeypatch.setenv("COACH_MAX_INPUT_CHARS", str(full - 1000))
    server.push(plan_from_prompt())
    plan = write(pair, retriever, draft)
    sent = sum(len(m["content"]) for m in server.requests[0]["messages"])
    assert sent <= full - 1000
    assert plan.attempts == 1 and plan.fallback_reason is None


def test_function_calling_method_uses_a_forced_tool_call(
    server: FakeOpenAI, pair: Pair, retriever, draft: Plan, monkeypatch
) -> None:
    monkeypatch.setenv("COACH_STRUCTURED_OUTPUT", "function_calling")
    server.push(plan_from_prompt(wrong_minutes), plan_from_prompt(tailored))
    plan = write(pair, retriever, draft)
    body = server.requests[0]
    assert body["tools"][0]["function"]["name"] == "curriculum_plan"
    assert body["tool_choice"]["function"]["name"] == "curriculum_plan"
    assert plan.attempts == 2 and plan.sessions[0].title.startswith("For Robert: ")


def test_json_mode_sends_the_schema_for_llama_cpp(
    server: FakeOpenAI, pair: Pair, retriever, draft: Plan, monkeypatch
) -> None:
    monkeypatch.setenv("COACH_STRUCTURED_OUTPUT", "json_mode")
    server.push(plan_from_prompt())
    plan = write(pair, retriever, draft)
    fmt = server.requests[0]["response_format"]
    assert fmt["type"] == "json_object" and "sessions" in fmt["schema"]["properties"]
    assert plan.attempts == 1 and plan.fallback_reason is None


# --------------------------------------------------------------------------- through the CLI


def test_cli_plan_with_a_model(server: FakeOpenAI, indexed_home: Path, tmp_path: Path) -> None:
    server.push(error(500), plan_from_prompt(wrong_minutes), plan_from_prompt(tailored))
    out = tmp_path / "plan.json"
    result = CliRunner().invoke(cli, ["plan", "--pair", str(EXAMPLE), "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["generated_by"] == {"engine": "openai", "model": "fake-model"}
    assert data["attempts"] == 2 and data["fallback_reason"] is None
    assert data["sessions"][0]["title"].startswith("For Robert: ")


def test_cli_model_option_overrides_the_environment(server: FakeOpenAI, indexed_home: Path) -> None:
    result = CliRunner().invoke(cli, ["plan", "--pair", str(EXAMPLE), "--format", "json", "--model", "offline"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["generated_by"]["engine"] == "offline"
    assert server.requests == []


def test_cli_wrong_key_is_one_line_exit_1(indexed_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeOpenAI(api_key="sk-good") as s:
        use_server(monkeypatch, s, COACH_MAX_TOKENS="20000", OPENAI_API_KEY="sk-bad")
        result = CliRunner().invoke(cli, ["plan", "--pair", str(EXAMPLE), "--format", "json"])
    assert result.exit_code == 1
    assert result.output.startswith("error: the model server at") and "rejected the API key (401)" in result.output
    assert result.output.count("\n") == 1
