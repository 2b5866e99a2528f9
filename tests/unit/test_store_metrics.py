"""Program metrics computed from facts (no database): SPEC.md section 7 fields and the issue's extras."""

from __future__ import annotations

import datetime as dt

from coach.metrics import PairFacts, build_report, to_html

D = dt.date


def facts(**kw) -> PairFacts:
    base = {
        "id": "p1",
        "mentor": "Priya",
        "mentee": "Robert",
        "cohort": None,
        "sessions_planned": 6,
        "cadence": "biweekly",
        "start": D(2026, 1, 12),
        "goals_total": 3,
        "plan_version": 1,
        "session_goals": {1: [0], 2: [1], 3: [2], 4: [], 5: [0], 6: []},
    }
    base.update(kw)
    return PairFacts(**base)


def test_latest_record_per_session_counts() -> None:
    f = facts(
        records=[
            (1, 1, "held", D(2026, 1, 12)),
            (2, 2, "moved", D(2026, 1, 30)),
            (3, 2, "held", D(2026, 1, 30)),
            (4, 3, "cancelled", D(2026, 2, 9)),
            (5, 4, "moved", D(2026, 3, 1)),
        ]
    )
    row = build_report([f], D(2026, 2, 15))["pairs"][0]
    assert (row["sessions_held"], row["sessions_cancelled"], row["sessions_moved"]) == (2, 1, 1)
    assert row["sessions_planned"] == 6
    assert row["cancellation_rate"] == round(1 / 3, 3)
    assert row["goals_covered"] == 2 and row["goals_covered_ids"] == [0, 1] and row["goals_total"] == 3
    assert row["last_session"] == "2026-01-30" and row["days_since_last_session"] == 16
    assert row["stalled"] is False


def test_ratings_average_latest_per_side_of_held_sessions_only() -> None:
    f = facts(
        records=[(1, 1, "held", D(2026, 1, 12)), (2, 2, "held", D(2026, 1, 26)), (3, 2, "cancelled", D(2026, 1, 27))],
        feedback=[
            (1, 1, "mentor", 2),
            (2, 1, "mentor", 4),  # a later rating of the same session replaces the first
            (3, 1, "mentee", 5),
            (4, 2, "mentor", 1),  # session 2 ended up cancelled: its rating does not count
        ],
    )
    row = build_report([f], D(2026, 2, 1))["pairs"][0]
    assert (row["avg_rating_mentor"], row["avg_rating_mentee"]) == (4.0, 5.0)


def test_no_ratings_are_null_not_zero() -> None:
    row = build_report([facts()], D(2026, 1, 1))["pairs"][0]
    assert row["avg_rating_mentor"] is None and row["avg_rating_mentee"] is None
    assert row["cancellation_rate"] == 0.0 and row["days_since_last_session"] is None


def test_stalled_is_more_than_twice_the_cadence() -> None:
    held = [(1, 1, "held", D(2026, 1, 12))]
    for cadence, limit in (("weekly", 14), ("biweekly", 28), ("monthly", 60)):
        f = facts(cadence=cadence, records=held)
        at_limit = build_report([f], D(2026, 1, 12) + dt.timedelta(days=limit))["pairs"][0]
        past = build_report([f], D(2026, 1, 12) + dt.timedelta(days=limit + 1))["pairs"][0]
        assert at_limit["stalled"] is False, cadence
        assert past["stalled"] is True, cadence


def test_stalled_counts_from_start_when_nothing_was_held() -> None:
    f = facts(start=D(2026, 3, 1))
    assert build_report([f], D(2026, 2, 1))["pairs"][0]["stalled"] is False  # not started yet
    assert build_report([f], D(2026, 3, 29))["pairs"][0]["stalled"] is False
    assert build_report([f], D(2026, 3, 30))["pairs"][0]["stalled"] is True


def test_finished_pairs_are_not_stalled() -> None:
    recs = [(n, n, "held" if n != 3 else "cancelled", D(2026, 1, 12) + dt.timedelta(days=14 * n)) for n in range(1, 7)]
    row = build_report([facts(records=recs)], D(2027, 1, 1))["pairs"][0]
    assert row["sessions_held"] == 5 and row["sessions_cancelled"] == 1
    assert row["stalled"] is False


def test_program_totals_and_trend_by_month() -> None:
    a = facts(
        id="a",
        records=[(1, 1, "held", D(2026, 1, 12)), (2, 2, "held", D(2026, 2, 2))],
        feedback=[(1, 1, "mentor", 5), (2, 2, "mentor", 3), (3, 2, "mentee", 4)],
    )
    b = facts(
        id="b",
        cadence="weekly",
        sessions_planned=4,
        goals_total=2,
        session_goals={1: [0, 1]},
        records=[(3, 1, "cancelled", D(2026, 1, 19)), (4, 2, "held", D(2026, 2, 20))],
        feedback=[(4, 2, "mentee", 2)],
    )
    report = build_report([a, b], D(2026, 3, 1))
    g = report["program"]
    assert g["pairs"] == 2
    assert (g["sessions_held"], g["sessions_cancelled"], g["sessions_planned"]) == (3, 1, 10)
    assert g["cancellation_rate"] == 0.25
    assert g["avg_rating_mentor"] == 4.0 and g["avg_rating_mentee"] == 3.0
    assert g["goals_covered"] == 2 and g["goals_total"] == 5  # a: goals 0 and 1; b's session 1 was cancelled
    assert g["stalled"] == [] and g["pairs_stalled"] == 0
    assert g["trend"] == [
        {
            "month": "2026-01",
            "held": 1,
            "cancelled": 1,
            "moved": 0,
            "avg_rating_mentor": 5.0,
            "avg_rating_mentee": None,
        },
        {"month": "2026-02", "held": 2, "cancelled": 0, "moved": 0, "avg_rating_mentor": 3.0, "avg_rating_mentee": 3.0},
    ]
    assert [t["month"] for t in report["pairs"][1]["trend"]] == ["2026-01", "2026-02"]


def test_html_has_charts_and_escapes_names() -> None:
    f = facts(
        mentee="<script>alert(1)</script>",
        records=[(1, 1, "held", D(2026, 1, 12)), (2, 2, "cancelled", D(2026, 2, 9))],
        feedback=[(1, 1, "mentor", 4), (2, 1, "mentee", 5)],
    )
    page = to_html(build_report([f], D(2026, 5, 1)))
    assert page.count("<svg") == 3
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert 'class="held"' in page and 'class="cancelled"' in page and "<polyline" in page
    assert "STALLED" in page


def test_empty_program() -> None:
    report = build_report([], D(2026, 1, 1))
    assert report["pairs"] == [] and report["program"]["pairs"] == 0
    assert "No sessions logged yet" in to_html(report)
