"""The assessment form of My pairs and the health table of the Program tab: handlers, without a browser."""

from __future__ import annotations

import datetime as dt

import pytest
from test_store import make_pair

from coach.config import load_settings

pytest.importorskip("gradio")


@pytest.fixture
def setup():
    from coach.store import close_stores, open_store

    store = open_store(load_settings())
    a = store.add_pair(make_pair(sessions=2))
    b = store.add_pair(make_pair(mentor="Ana Diaz", mentee="Cara Moss"))
    mentor = store.add_account("priya@example.org", "Priya", pair=a, side="mentor")
    mentee = store.add_account("robert@example.org", "Robert", pair=a, side="mentee")
    admin = store.add_account("boss@example.org", "Boss", role="admin")
    yield store, a, b, mentor, mentee, admin
    close_stores()


def test_comfort_levels_are_described_in_plain_words() -> None:
    from ui.assessment_form import comfort_choices

    assert comfort_choices()[1:] == [
        "1: I don't know how to do it",
        "2: I can do it with help",
        "3: I can do it on my own",
        "4: I can do it with confidence",
        "5: I can do it with confidence and can guide others",
    ]


def test_mentee_fills_in_baseline_then_closing_and_the_report_shows_the_gain(setup) -> None:
    from coach.metrics import build_report
    from ui import assessment_form as form

    store, a, _b, mentor, mentee, _admin = setup
    day = dt.date(2026, 1, 5)
    assert form.due_text(mentee, a, day) == "Due now: your baseline assessment."
    msg = form.save(
        mentee, a, "baseline", {"generative-ai": "1: I don't know how to do it"}, ["-1: x", None], None, day
    )
    assert msg.startswith("Saved your baseline assessment as the mentee"), msg
    assert form.due_text(mentee, a, day) == "Nothing to fill in for this pair right now."
    assert form.due_text(mentor, a, day) == "Due now: your baseline assessment."

    store.log_session(a, 1, "held", dt.date(2026, 1, 12))
    store.log_session(a, 2, "held", dt.date(2026, 1, 26))
    later = dt.date(2026, 2, 1)
    assert form.due_text(mentee, a, later) == "Due now: your closing assessment."
    closing = {"generative-ai": "4: I can do it with confidence"}
    assert form.save(mentee, a, "closing", closing, ["+2: y", "0: z"], "9", later).startswith("Saved")
    [row] = [p for p in build_report(store.report_facts(), later)["pairs"] if p["id"] == a]
    assert row["outcomes"]["comfort_gain"] == {"generative-ai": 3} and row["outcomes"]["gas_t"] == 62.4


def test_form_refuses_what_it_should(setup) -> None:
    from ui import assessment_form as form

    store, a, b, _mentor, mentee, admin = setup
    ok = {"generative-ai": "3: I can do it on my own"}
    assert form.save(None, a, "baseline", ok, [], None) == "⚠ Sign in first."
    assert form.save(mentee, b, "baseline", ok, [], None) == "⚠ No such pair."  # not theirs
    assert form.save(admin, a, "baseline", ok, [], None).startswith("⚠ admins enter")
    assert "at least one" in form.save(mentee, a, "baseline", {}, [], None)
    assert "only for kind closing" in form.save(mentee, a, "baseline", ok, [], "9")
    assert store.assessments(a) == []
    assert form.goals_of(mentee, b) == [] and form.due_text(mentee, b) == ""


def test_program_tab_lists_health_and_outcomes(setup) -> None:
    from coach.assessments import AssessmentIn
    from coach.metrics import build_report
    from ui import program_tab

    store, a, b, _mentor, _mentee, _admin = setup
    store.log_session(b, 1, "held", dt.date(2026, 1, 12), "", {"mentee": (1, "")})
    store.add_assessment(a, AssessmentIn("mentee", "baseline", None, dt.date(2026, 1, 5), {"data-literacy": 2}), "t")
    store.add_assessment(a, AssessmentIn("mentee", "closing", None, dt.date(2026, 3, 5), {"data-literacy": 4}), "t")
    data = build_report(store.report_facts(), dt.date(2026, 1, 20))
    rows = program_tab.health_rows(data)
    assert rows[0][:3] == ["Cara Moss", "Ana Diaz", "Needs a check-in"]
    assert "rated session 1 1 of 5" in rows[0][3]
    assert next(r for r in rows if r[-1] == a)[5] == "Data literacy 2 → 4 (+2)"
    text = program_tab.summary(data)
    assert "1 need a check-in" in text and "median comfort gain +2.0 levels" in text
