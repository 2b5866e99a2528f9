"""`POST /api/v1/pairs/{id}/assessments` over every role, and SPEC.md section 11 outcomes from posted assessments."""

from __future__ import annotations

import math

import pytest
from test_api import P, World, world  # noqa: F401  (the fixture: every test below takes it)

BASE = {
    "kind": "baseline",
    "date": "2026-01-05",
    "comfort": {"generative-ai": 1, "data-literacy": 2},
    "goals": {"1": -1},
}
CLOSE = {
    "kind": "closing",
    "date": "2026-03-02",
    "comfort": {"generative-ai": 4, "data-literacy": 3, "social-media": 5},
    "goals": {"1": 2, "2": 0},
    "recommend": 9,
}


def test_assessment_per_role(world: World) -> None:  # noqa: F811
    path = f"{P}/pairs/{world.a}/assessments"
    assert world.post(path, None, BASE).status_code == 401
    assert world.post(path, "wrong", BASE).status_code == 401
    # The other pair's participant: as if the pair did not exist.
    hidden = world.post(path, "other", BASE)
    missing = world.post(f"{P}/pairs/zzzzzzzzzzzz/assessments", "other", BASE)
    assert hidden.status_code == missing.status_code == 404 and hidden.json() == missing.json()
    assert world.post(f"{P}/pairs/{world.a[:8]}/assessments", "own", BASE).status_code == 404
    assert world.store.assessments(world.a) == []

    # The participant's own side, whatever else; naming the other side is refused.
    r = world.post(path, "own", BASE)
    assert r.status_code == 201, r.text
    assert r.json()["side"] == "mentor" and r.json()["comfort"] == BASE["comfort"]
    assert world.post(path, "own", {**BASE, "side": "mentee"}).status_code == 403
    assert world.post(path, "own", {**BASE, "side": "mentor"}).status_code == 201
    r = world.post(f"{P}/pairs/{world.b}/assessments", "other", BASE)
    assert r.status_code == 201 and r.json()["side"] == "mentee"
    assert [a.side for a in world.store.assessments(world.b)] == ["mentee"]

    # An admin enters a participant's answers by naming the side; audited.
    assert world.post(path, "admin", BASE).status_code == 422
    r = world.post(path, "admin", {**CLOSE, "side": "mentee"})
    assert r.status_code == 201 and r.json()["side"] == "mentee" and r.json()["recommend"] == 9
    assert [(a.side, a.kind, a.entered_by) for a in world.store.assessments(world.a)] == [
        ("mentor", "baseline", "own@example.org"),
        ("mentor", "baseline", "own@example.org"),
        ("mentee", "closing", "admin@example.org"),
    ]
    actions = [(e.actor, e.action, e.target) for e in world.store.audit_entries()]
    assert ("admin@example.org", "assess", f"pair {world.a}") in actions


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"kind": "midterm", "comfort": {"generative-ai": 3}},
        {**BASE, "comfort": {"generative-ai": 6}},
        {**BASE, "comfort": {"generative-ai": 0}},
        {**BASE, "comfort": {"cooking": 3}},
        {**BASE, "comfort": {"generative-ai": "high"}},
        {**BASE, "goals": {"1": 3}},
        {**BASE, "goals": {"3": 1}},  # the pair has two goals
        {**BASE, "goals": {"0": 1}},
        {**BASE, "goals": {"one": 1}},
        {**BASE, "recommend": 9},  # only at closing
        {**CLOSE, "recommend": 11},
        {"kind": "followup", "used_at_work": True},  # which follow-up?
        {"kind": "followup", "followup_months": 6, "used_at_work": True},
        {"kind": "followup", "followup_months": 3},  # used at work since?
        {**BASE, "used_at_work": True},
        {**BASE, "date": "05/01/2026"},
        {**BASE, "date": "2999-01-01"},
        {**BASE, "extra": 1},
        {"kind": "baseline"},  # nothing answered
    ],
)
def test_bad_assessments_are_422_and_write_nothing(world: World, body: dict) -> None:  # noqa: F811
    r = world.post(f"{P}/pairs/{world.a}/assessments", "own", body)
    assert r.status_code == 422, (body, r.text)
    assert world.store.assessments(world.a) == []


def test_followup_is_stored_with_its_month(world: World) -> None:  # noqa: F811
    body = {"kind": "followup", "followup_months": 12, "used_at_work": True, "example": "drafted a board memo"}
    r = world.post(f"{P}/pairs/{world.b}/assessments", "other", body)
    assert r.status_code == 201, r.text
    [a] = world.store.assessments(world.b)
    assert (a.kind, a.followup_months, a.slot, a.used_at_work, a.example) == (
        "followup",
        12,
        "followup-12m",
        True,
        "drafted a board memo",
    )


def test_posted_baseline_and_closing_give_the_section_11_outcomes(world: World) -> None:  # noqa: F811
    mentee_b = f"{P}/pairs/{world.b}/assessments"
    assert world.post(mentee_b, "other", BASE).status_code == 201
    assert world.post(mentee_b, "other", CLOSE).status_code == 201
    # Pair A: the admin enters the mentee's paper forms; a second closing answer for the mentor side.
    a_path = f"{P}/pairs/{world.a}/assessments"
    base_a = {**BASE, "comfort": {"generative-ai": 2}, "goals": {}, "side": "mentee"}
    close_a = {"kind": "closing", "date": "2026-03-03", "comfort": {"generative-ai": 3}, "goals": {"1": -1}}
    assert world.post(a_path, "admin", base_a).status_code == 201
    assert world.post(a_path, "admin", {**close_a, "side": "mentee", "recommend": 3}).status_code == 201
    assert (
        world.post(a_path, "own", {"kind": "closing", "comfort": {"strategy-context": 4}, "recommend": 10}).status_code
        == 201
    )

    report = world.get(f"{P}/report", "admin").json()
    rows = {p["id"]: p["outcomes"] for p in report["pairs"]}
    b = rows[world.b]
    assert b["comfort_baseline"] == {"data-literacy": 2, "generative-ai": 1}
    assert b["comfort_latest"] == {"data-literacy": 3, "generative-ai": 4, "social-media": 5}
    assert b["comfort_gain"] == {"data-literacy": 1, "generative-ai": 3}  # social-media had no baseline
    # Latest rating per goal: goal 1 -> +2 (closing overrides the baseline's -1), goal 2 -> 0.
    assert b["gas_t"] == pytest.approx(round(50 + 10 * 2 / math.sqrt(0.7 * 2 + 0.3 * 4), 1))
    assert b["gas_t"] == 62.4
    a = rows[world.a]
    assert a["comfort_gain"] == {"generative-ai": 1}
    assert a["gas_t"] == 40.0  # one goal at -1: 50 - 10 / sqrt(1)
    assert a["by_side"]["mentor"]["comfort_latest"] == {"strategy-context": 4}

    program = report["program"]["outcomes"]
    assert program["pairs_with_baseline_and_closing"] == 2
    assert program["median_comfort_gain"] == 1.5  # pair B mean (1 + 3) / 2 = 2, pair A 1
    assert program["mean_gas_t"] == pytest.approx(round((62.4 + 40.0) / 2, 1))
    # Closing answers 9 (B mentee), 3 (A mentee), 10 (A mentor): 2 promoters, 1 detractor of 3.
    assert program["nps"] == pytest.approx(33.3)
