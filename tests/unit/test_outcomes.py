"""Health rules (one test each), the follow-up schedule, GAS T-scores and NPS (SPEC.md section 11), from facts."""

from __future__ import annotations

import datetime as dt

import pytest

from coach.assessments import Assessment
from coach.metrics import PairFacts, build_report
from coach.outcomes import add_months, due_assessments, gas_t, health, nps

D = dt.date
START = D(2026, 1, 12)


def facts(held: int = 0, **kw) -> PairFacts:
    """A biweekly pair of 6 sessions; the first `held` sessions held two weeks apart."""
    records = [(n, n, "held", START + dt.timedelta(days=14 * (n - 1))) for n in range(1, held + 1)]
    base = {
        "id": "p1",
        "mentor": "Priya",
        "mentee": "Robert",
        "cohort": None,
        "sessions_planned": 6,
        "cadence": "biweekly",
        "start": START,
        "goals_total": 2,
        "records": records,
    }
    base.update(kw)
    return PairFacts(**base)


def assessment(side: str, kind: str, on: D, months: int | None = None, **kw) -> Assessment:
    return Assessment(side=side, kind=kind, followup_months=months, assessed_on=on, id=on.toordinal(), **kw)


def test_too_early_before_session_two() -> None:
    state, reasons, _ = health(facts(held=1), START + dt.timedelta(days=3))
    assert state == "too_early" and "too early" in reasons[0]
    assert health(facts(held=0), START - dt.timedelta(days=5))[0] == "too_early"  # not started yet


def test_on_track_after_two_sessions_on_cadence() -> None:
    state, reasons, closes_on = health(facts(held=2), START + dt.timedelta(days=20))
    assert state == "on_track" and "2 of 6 sessions held" in reasons[0]
    assert closes_on == START + dt.timedelta(days=14 + 90)


def test_needs_check_in_after_twice_the_cadence_without_a_held_session() -> None:
    last = START + dt.timedelta(days=14)
    assert health(facts(held=2), last + dt.timedelta(days=28))[0] == "on_track"
    state, reasons, _ = health(facts(held=2), last + dt.timedelta(days=29))
    assert state == "needs_check_in" and "no session held for 29 days" in reasons[0]
    # Never started: the clock runs from the planned start.
    assert health(facts(held=0), START + dt.timedelta(days=29))[0] == "needs_check_in"


def test_needs_check_in_after_two_cancellations_in_a_row() -> None:
    today = START + dt.timedelta(days=30)  # 16 days after session 2: within the cadence
    two = facts(held=2, records=[*facts(held=2).records, (3, 3, "cancelled", today), (4, 4, "cancelled", today)])
    state, reasons, _ = health(two, today)
    assert state == "needs_check_in" and reasons == ["the last two sessions were cancelled"]
    # Cancelled, then held: recovered.
    back = facts(held=2, records=[*two.records[:3], (4, 4, "held", today)])
    assert health(back, today)[0] == "on_track"


def test_needs_check_in_after_a_rating_of_two_or_less() -> None:
    today = START + dt.timedelta(days=20)
    low = facts(held=2, feedback=[(1, 1, "mentor", 5), (2, 2, "mentee", 2), (3, 2, "mentor", 4)])
    state, reasons, _ = health(low, today)
    assert state == "needs_check_in" and reasons == ["the mentee rated session 2 2 of 5"]
    # Only the latest rated session counts: a low rating later made up for is not a reason.
    later = facts(held=2, feedback=[(1, 1, "mentee", 1), (2, 2, "mentee", 3)])
    assert health(later, today)[0] == "on_track"


def test_needs_check_in_when_a_side_says_not_a_good_fit() -> None:
    state, reasons, _ = health(facts(held=2, fit={"mentee": "not-a-good-fit"}), START + dt.timedelta(days=20))
    assert state == "needs_check_in" and reasons == ["the mentee answered: not a good fit"]


def test_closed_when_finished_or_idle_ninety_days_with_a_warning_before() -> None:
    assert health(facts(held=6), START + dt.timedelta(days=80))[0] == "closed"
    last = START + dt.timedelta(days=14)
    state, reasons, closes_on = health(facts(held=2), last + dt.timedelta(days=83))
    assert state == "needs_check_in" and closes_on == last + dt.timedelta(days=90)
    assert reasons[0].startswith(f"closes on {closes_on.isoformat()}")
    assert health(facts(held=2), last + dt.timedelta(days=82))[1][0].startswith("no session held")  # no warning yet
    state, reasons, _ = health(facts(held=2), last + dt.timedelta(days=90))
    assert state == "closed" and "90 days" in reasons[0]


def test_followups_come_from_stored_facts_and_the_day_asked() -> None:
    """The schedule depends only on the records and `today`: a restart changes nothing, a later day adds more."""
    last = START + dt.timedelta(days=14 * 5)  # session 6, the last one
    done = [assessment("mentee", "followup", add_months(last, 3), 3, used_at_work=True)]
    f = facts(held=6, assessments=done)

    def due(today: D) -> list[str]:
        return build_report([f], today)["pairs"][0]["outcomes"]["followups_due"]

    assert due(last + dt.timedelta(days=30)) == []
    at_3m = add_months(last, 3)
    assert due(at_3m) == [at_3m.isoformat()]  # the mentor has not answered yet
    assert due(at_3m) == due(at_3m)  # the same facts, the same answer (nothing kept in memory)
    # Clock moved forward 13 months: the 12-month one is due too; 24 months later, all three.
    assert due(add_months(last, 13)) == [at_3m.isoformat(), add_months(last, 12).isoformat()]
    assert len(due(add_months(last, 25))) == 3
    # Once both sides answered the 3-month follow-up it is no longer due.
    both = facts(held=6, assessments=[*done, assessment("mentor", "followup", at_3m, 3, used_at_work=False)])
    assert build_report([both], at_3m)["pairs"][0]["outcomes"]["followups_due"] == []
    slots = due_assessments(f, done, add_months(last, 13))
    assert ("followup-3m", "mentor", at_3m) in slots and ("followup-12m", "mentee", add_months(last, 12)) in slots
    assert ("closing", "mentee", last) in slots


def test_followups_survive_a_restart(tmp_path, monkeypatch) -> None:
    """Stored records read back by a fresh store give the same follow-up dates."""
    from test_store import make_pair

    from coach.assessments import AssessmentIn
    from coach.config import load_settings
    from coach.store import close_stores, open_store

    monkeypatch.setenv("COACH_HOME", str(tmp_path))
    store = open_store(load_settings())
    pid = store.add_pair(make_pair(sessions=2))
    store.log_session(pid, 1, "held", D(2026, 1, 12))
    store.log_session(pid, 2, "held", D(2026, 1, 26))
    store.add_assessment(pid, AssessmentIn("mentee", "closing", None, D(2026, 1, 26), {"generative-ai": 3}), "t")
    today = D(2026, 5, 1)
    first = build_report(store.report_facts(), today)["pairs"][0]["outcomes"]
    close_stores()
    again = build_report(open_store(load_settings()).report_facts(), today)["pairs"][0]["outcomes"]
    close_stores()
    assert first["followups_due"] == again["followups_due"] == ["2026-04-26"]
    assert first["health"] == again["health"] == "closed"


def test_gas_t_formula() -> None:
    assert gas_t({}) is None
    assert gas_t({1: 0, 2: 0, 3: 0}) == 50.0
    # n = 3, sum = 3: 50 + 30 / sqrt(2.1 + 2.7)
    assert gas_t({1: 1, 2: 1, 3: 1}) == pytest.approx(round(50 + 30 / (0.7 * 3 + 0.3 * 9) ** 0.5, 1))
    assert gas_t({1: -2}) == 30.0


def test_nps() -> None:
    assert nps([]) is None
    assert nps([10, 9, 8, 7]) == 50.0
    assert nps([0, 6, 9, 10, 7]) == 0.0
    assert nps([3]) == -100.0


def test_text_and_html_reports_show_health_and_outcomes() -> None:
    from coach.metrics import program_lines, to_html

    low = facts(held=2, mentee="Robert <b>", feedback=[(1, 2, "mentee", 1)])
    report = build_report([low, facts(held=2, id="p2")], START + dt.timedelta(days=20))
    lines = program_lines(report)
    assert "health: 1 on track, 1 need a check-in, 0 too early to tell, 0 closed; 0 follow-ups due" in lines
    page = to_html(report)
    assert "the mentee rated session 2 1 of 5" in page and "Robert &lt;b&gt;" in page
