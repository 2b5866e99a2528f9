"""Model engines in the eval suite, against a loopback OpenAI-compatible server (the coach's HTTP path is real).

- the model's own plan is scored, not the offline draft the chain would fall back to;
- cases run concurrently, never more at once than the bound;
- a plan too long for the model's output cap is not asked and is reported apart;
- the judge returns a pydantic rubric, and a broken judge answer scores 0 with the cause.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fakeserver import FakeOpenAI, Reply, data_block, json_reply, session_from_prompt, text, use_server
from support import EXAMPLE_PAIR, copy_cases

from coach.config import load_settings
from coach.evals.evaluator import PlanSubject
from coach.evals.judge import JudgeEvaluator
from coach.evals.runner import run_suite
from coach.pairs import load_pair
from coach.planner import build_plan


def model(mutate=None, delay: float = 0.0, track: dict[str, int] | None = None):
    """A fake model: each session's words as the brief asks (changed by `mutate`), chat answers cite a card."""
    lock = threading.Lock()
    brief = session_from_prompt(mutate)

    def respond(body: dict[str, Any]) -> Reply:
        if track is not None:
            with lock:
                track["now"] += 1
                track["max"] = max(track["max"], track["now"])
        try:
            if delay:
                time.sleep(delay)
            try:
                data_block(body, "session")
            except LookupError:
                return text("Hallucinations are confident answers that are wrong [genai-hallucinations-fact-checking].")
            return brief(body)
        finally:
            if track is not None:
                with lock:
                    track["now"] -= 1

    return respond


def same_question_everywhere(out: dict) -> None:
    out["discussion_prompts"] = ["What do you think?" for _ in out["discussion_prompts"]]


def test_the_models_own_plan_is_scored_not_the_fallback(tmp_path: Path, monkeypatch, retriever) -> None:
    folder = copy_cases(tmp_path, ["cfo-retail-genai-genz", "chat-explain-hallucinations"])
    with FakeOpenAI() as server:
        use_server(monkeypatch, server)
        server.always(model(same_question_everywhere))
        run = run_suite(load_settings(), "openai:fake-model", folder, retriever=retriever)
    data = run.as_json()
    assert (data["engine"], data["model"]) == ("openai", "fake-model")
    plan_case = next(c for c in data["cases"] if c["id"] == "cfo-retail-genai-genz")
    # The chain would have kept the (valid) offline text for every session; the eval keeps the model's.
    assert plan_case["source"] == "model" and plan_case["attempts"] == 3
    assert "failed its checks" in plan_case["note"] and "is asked twice" in plan_case["note"]
    assert not plan_case["scores"]["diversity"]["passed"]
    chat_case = next(c for c in data["cases"] if c["id"] == "chat-explain-hallucinations")
    assert chat_case["source"] == "model" and chat_case["passed"], chat_case
    assert "diversity" in run.below()


def test_model_cases_run_concurrently_within_the_bound(tmp_path: Path, monkeypatch, retriever) -> None:
    folder = copy_cases(
        tmp_path,
        [
            "chat-explain-hallucinations",
            "chat-passkeys",
            "chat-dashboards",
            "chat-genz-brands",
            "chat-lesson-prompting-cfo",
        ],
    )
    track = {"now": 0, "max": 0}
    with FakeOpenAI() as server:
        use_server(monkeypatch, server)
        server.always(model(delay=0.4, track=track))
        run = run_suite(load_settings(), "openai:fake-model", folder, retriever=retriever, concurrency=2)
        assert len(server.requests) == 5
    assert track["max"] == 2
    assert len(run.cases) == 5


def test_a_plan_over_the_output_cap_is_not_asked(tmp_path: Path, monkeypatch, retriever) -> None:
    folder = copy_cases(tmp_path, ["max-24x180", "one-session-15min"])
    with FakeOpenAI() as server:
        # Every session of the 24 x 180-minute case needs over 1,000 tokens; the 15-minute one about 700.
        use_server(monkeypatch, server, COACH_MAX_TOKENS="1000")
        server.always(model())
        run = run_suite(load_settings(), "openai:fake-model", folder, retriever=retriever, max_attempts=1)
        asked = len(server.requests)
    assert [c.case_id for c in run.skipped] == ["max-24x180"]
    assert "output tokens" in (run.skipped[0].note or "")
    assert [c.case_id for c in run.cases] == ["one-session-15min"]
    assert asked == 1


def test_no_parseable_plan_scores_zero(tmp_path: Path, monkeypatch, retriever) -> None:
    folder = copy_cases(tmp_path, ["two-sessions-slack"])
    with FakeOpenAI() as server:
        use_server(monkeypatch, server)
        server.always(text("I would love to help you plan sessions!"))
        run = run_suite(load_settings(), "openai:fake-model", folder, retriever=retriever, max_attempts=2)
    case = run.cases[0]
    assert case.source == "no plan" and case.attempts == 2
    assert all(s.score == 0.0 for s in case.scores.values())


# --------------------------------------------------------------------------- judge


def rubric(relevance: int, actionability: int, tailoring: int) -> dict[str, Any]:
    return {
        "relevance": {"score": relevance, "reason": "serves both goals"},
        "actionability": {"score": actionability, "reason": "timed agenda"},
        "tailoring": {"score": tailoring, "reason": "names the CFO's board reports"},
    }


@pytest.mark.parametrize(
    ("reply", "score", "reason"),
    [
        (json_reply(rubric(4, 5, 3)), 0.75, "relevance 4/5: serves both goals"),
        (json_reply(rubric(1, 1, 1)), 0.0, "tailoring 1/5"),
        (json_reply(rubric(7, 5, 3)), 0.0, "did not fit the rubric"),
        (text("looks great"), 0.0, "not JSON"),
    ],
    ids=["good", "poor", "out-of-range", "not-json"],
)
def test_judge_rubric(monkeypatch, retriever, reply: Reply, score: float, reason: str) -> None:
    from coach.providers import make_provider, parse_model

    pair = load_pair(EXAMPLE_PAIR)
    plan = build_plan(pair, retriever)
    with FakeOpenAI() as server:
        use_server(monkeypatch, server)
        server.always(reply)
        settings = load_settings()
        judge = JudgeEvaluator(make_provider(parse_model("openai:judge-model", settings), settings))
        verdict = judge.score(PlanSubject(pair, plan, retriever.kb, retriever))
        sent = server.wire_text()
    assert verdict.score == pytest.approx(score)
    assert reason in verdict.reason
    assert "Robert Klein" in sent  # the judge saw this pair's plan


def test_the_judge_runs_only_when_configured(tmp_path: Path, monkeypatch, retriever) -> None:
    folder = copy_cases(tmp_path, ["board-chair-copilot"])
    offline = run_suite(load_settings(), "offline", folder, retriever=retriever)
    assert "judge" not in offline.means() and "judge" not in offline.thresholds
    with FakeOpenAI() as server:
        use_server(monkeypatch, server, model="offline")
        monkeypatch.setenv("COACH_JUDGE_MODEL", "openai:judge-model")
        server.always(json_reply(rubric(5, 4, 4)))
        judged = run_suite(load_settings(), "offline", folder, retriever=retriever)
    assert judged.means()["judge"] == pytest.approx(10 / 12)
    assert judged.thresholds["judge"] == 0.6 and judged.passed


def test_engines_are_compared_on_the_same_cases() -> None:
    from coach.evals.comparison import restrict

    def case(cid: str, score: float) -> dict[str, Any]:
        return {"id": cid, "scores": {"structure": {"score": score, "passed": score >= 1.0, "reason": "r"}}}

    run = {
        "engine": "offline",
        "run_id": 2,
        "cases": [case("a", 1.0), case("b", 0.5), case("c", 1.0)],
        "evaluators": {
            "structure": {"mean": 0.8333, "threshold": 1.0, "passed": False, "failing_cases": 1, "cases": 3}
        },
        "passed": False,
    }
    view = restrict(run, {"a", "c", "z"})
    assert [c["id"] for c in view["cases"]] == ["a", "c"] and view["same_cases"] == 2
    assert view["evaluators"]["structure"] == {
        "mean": 1.0,
        "threshold": 1.0,
        "passed": True,
        "failing_cases": 0,
        "cases": 2,
    }
    assert view["passed"] is True and run["passed"] is False  # the original is untouched
