"""Prompts are files loaded by name, and each one's variables are exactly what the code fills in."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest

from coach.config import DEFAULT_KB
from coach.errors import CoachError
from coach.knowledge import load_knowledge
from coach.models import Mentee, Mentor, Pair, Plan, Program
from coach.prompts import Prompt, available, load_prompt, render

#: The contract: each template and the values the code passes to it.
EXPECTED = {
    "session_system": set(),
    "session_user": {"number", "total", "rules", "pair", "cards", "session", "others"},
    "session_repair": {"errors"},
    "plan_repair": {"errors"},
    "revise_system": set(),
    "revise_user": {"instruction", "rules", "cards", "plan"},
    "chat_system": set(),
    "chat_user": {"role", "pair", "plan", "cards", "draft", "question"},
}


def test_every_prompt_file_is_known_and_has_the_expected_variables() -> None:
    assert set(available()) == set(EXPECTED), "a prompt file was added or removed without updating the contract"
    for name, variables in EXPECTED.items():
        assert load_prompt(name).variables == variables, name


def test_render_refuses_missing_and_unexpected_values() -> None:
    with pytest.raises(CoachError, match="missing values errors"):
        render("plan_repair")
    with pytest.raises(CoachError, match="unexpected values extra"):
        render("plan_repair", errors="- x", extra="y")
    assert "- one problem" in render("plan_repair", errors="- one problem")


def test_braces_in_values_are_kept_literally() -> None:
    # Card text may hold {mentee} placeholders or JSON; filling must not re-interpret it.
    out = Prompt("t", "A {x} B\n").render(x='{"a": "{mentee}"}')
    assert out == 'A {"a": "{mentee}"} B\n'


def test_placeholder_must_be_a_plain_name() -> None:
    with pytest.raises(CoachError, match="not a plain name"):
        _ = Prompt("bad", "hello {0} {a.b}").variables


@pytest.fixture(scope="module")
def kb():
    return load_knowledge([DEFAULT_KB])


def _pair() -> Pair:
    return Pair(
        mentor=Mentor(name="Priya Shah", role="Data Analyst", strengths=["prompting"]),
        mentee=Mentee(name="Robert Klein", role="CFO", goals=["draft board reports with AI"], comfort={}),
        program=Program(sessions=2, minutes=45, cadence="weekly", start=dt.date(2026, 1, 12)),
    )


def _plan() -> Plan:
    return Plan.model_validate(
        {
            "mentor": {"name": "Priya Shah", "role": "Data Analyst"},
            "mentee": {"name": "Robert Klein", "role": "CFO"},
            "ground_rules": ["Be kind"],
            "success_measures": ["One report drafted"],
            "goals": ["draft board reports with AI"],
            "sessions": [
                {
                    "number": 1,
                    "date": "2026-01-12",
                    "title": "Start",
                    "minutes": 45,
                    "topics": [{"id": "genai-prompting-basics", "title": "x", "domain": "generative-ai"}],
                    "objectives": [],
                    "pre_work": [],
                    "agenda": [{"minutes": 45, "activity": "All", "lead": "both"}],
                    "discussion_prompts": [{"text": "Why?", "asked_by": "mentee"}],
                    "reflection": [],
                    "citations": [],
                }
            ],
        }
    )


def test_the_code_fills_every_template_exactly(kb) -> None:
    """Each builder renders strictly, so a drifted template raises here."""
    from coach.chains import revise_prompt, session_prompt
    from coach.chat import Answer, ChatContext, chat_prompt

    cards = [kb.get("genai-prompting-basics")]
    plan = _plan()
    system, user = session_prompt(_pair(), plan, plan.sessions[0], cards)
    assert system == render("session_system") and '<data name="session">' in user
    assert "session 1 of 1" in user
    system, user = revise_prompt(_plan(), "make session 1 shorter", cards)
    assert '<data name="edit_request">' in user
    ctx = ChatContext(SimpleNamespace(kb=kb), _pair(), _plan(), "mentor")  # type: ignore[arg-type]
    system, user = chat_prompt("explain prompts", ctx, Answer("explain", "draft", ["genai-prompting-basics"]))
    assert '<data name="question">\nexplain prompts\n</data>' in user
    assert "The person asking is the mentor" in user


def test_prompts_folder_is_in_the_package_root() -> None:
    from coach.prompts import prompts_dir

    assert prompts_dir() == Path(__file__).resolve().parents[2] / "prompts"
