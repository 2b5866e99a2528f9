"""The report by Kirkpatrick level and the CSV for HR analysts (issue 15)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from coach.config import load_settings
from coach.models import Mentee, Mentor, Pair, Program


def make_pair(mentee: str) -> Pair:
    return Pair(
        mentor=Mentor(name="Priya Shah", role="Analyst", strengths=["ChatGPT"]),
        mentee=Mentee(name=mentee, role="CFO", goals=["use AI for board reports", "read dashboards"]),
        program=Program(sessions=2, minutes=60, cadence="weekly", start=dt.date(2026, 1, 5)),
    )


@pytest.fixture
def store() -> Iterator[Any]:
    from coach.store import close_stores, open_store

    yield open_store(load_settings())
    close_stores()


def test_levels_from_ratings_assessments_and_follow_ups(store: Any) -> None:
    from coach.assessments import AssessmentIn
    from coach.cli import cli

    a = store.add_pair(make_pair("Robert Klein"))
    b = store.add_pair(make_pair("=HYPERLINK(1)"))  # a name a spreadsheet would run as a formula
    for number, day in ((1, dt.date(2026, 1, 5)), (2, dt.date(2026, 1, 12))):
        store.log_session(a, number, "held", day, "", {"mentor": (5, ""), "mentee": (3, "")})
    add = store.add_assessment
    add(a, AssessmentIn("mentee", "baseline", None, dt.date(2026, 1, 2), {"generative-ai": 1, "data-literacy": 2}), "t")
    add(
        a,
        AssessmentIn(
            "mentee",
            "closing",
            None,
            dt.date(2026, 1, 20),
            {"generative-ai": 4, "data-literacy": 3},
            {1: 1, 2: 0},
            recommend=10,
        ),
        "t",
    )
    add(a, AssessmentIn("mentor", "closing", None, dt.date(2026, 1, 20), {}, {}, recommend=6), "t")
    add(
        a,
        AssessmentIn(
            "mentee",
            "followup",
            3,
            dt.date(2026, 4, 12),
            {},
            {},
            used_at_work=True,
            example="drafted the board summary with Copilot",
        ),
        "t",
    )
    add(a, AssessmentIn("mentor", "followup", 3, dt.date(2026, 4, 12), {}, {}, used_at_work=False), "t")

    runner = CliRunner()
    out = runner.invoke(cli, ["report", "--format", "json", "--as-of", "2026-05-01"])
    assert out.exit_code == 0, out.output
    k = json.loads(out.stdout)["program"]["kirkpatrick"]
    assert k["L1_reaction"]["avg_rating_mentor"] == 5.0 and k["L1_reaction"]["avg_rating_mentee"] == 3.0
    assert k["L1_reaction"]["nps"] == 0.0 and k["L1_reaction"]["nps_answers"] == 2  # one 10, one 6
    assert k["L2_learning"]["mean_gain_by_domain"] == {"data-literacy": 1.0, "generative-ai": 3.0}
    assert k["L2_learning"]["median_comfort_gain"] == 2.0
    l3 = k["L3_behaviour"]
    assert (l3["followup_answers"], l3["used_at_work"], l3["used_at_work_rate"]) == (2, 1, 0.5)
    assert l3["examples"] == ["drafted the board summary with Copilot"]

    text = runner.invoke(cli, ["report", "--as-of", "2026-05-01"]).stdout
    assert "L3 behaviour: 1 of 2 follow-up answers used it at work (50%)" in text
    html = runner.invoke(cli, ["report", "--format", "html", "--as-of", "2026-05-01"]).stdout
    assert "By Kirkpatrick level" in html and "L2 learning" in html

    rows = list(csv.DictReader(io.StringIO(runner.invoke(cli, ["report", "--format", "csv"]).stdout)))
    by_id = {r["pair_id"]: r for r in rows}
    assert set(by_id) == {a, b}
    assert by_id[a]["comfort_baseline"] == "data-literacy=2;generative-ai=1"
    assert by_id[a]["mean_comfort_gain"] == "2.0" and by_id[a]["sessions_held"] == "2"
    assert by_id[b]["mentee"] == "'=HYPERLINK(1)"
