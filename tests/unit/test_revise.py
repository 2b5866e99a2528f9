"""Revisions: common edits offline, free-form edits through a model; every result passes the checks or is refused."""

from __future__ import annotations

import datetime as dt
import json
from itertools import pairwise
from pathlib import Path

import pytest
from click.testing import CliRunner
from fakeserver import FakeOpenAI, plan_from_prompt, provider, text, use_server

from coach.checks import CLOSING_CARD, KICKOFF_CARD
from coach.cli import cli
from coach.errors import InputError
from coach.instructions import Edit, parse_edits
from coach.models import MENTOR_DOMAINS, Pair, Plan
from coach.planner import build_plan
from coach.revise import RevisionRefused, revise, revise_offline
from coach.revision_checks import check_revised

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "pair.yaml"


@pytest.fixture(scope="module")
def plan(pair: Pair, retriever) -> Plan:
    return build_plan(pair, retriever)


def mentor_ids(plan: Plan, number: int) -> list[str]:
    return [t.id for t in plan.sessions[number - 1].topics if t.domain in MENTOR_DOMAINS]


def assert_valid(plan: Plan, retriever, pair: Pair) -> None:
    assert check_revised(plan, retriever.kb, pair) == []
    for s in plan.sessions:
        assert sum(a.minutes for a in s.agenda) == s.minutes
    assert [s.number for s in plan.sessions] == list(range(1, len(plan.sessions) + 1))
    assert KICKOFF_CARD in {t.id for t in plan.sessions[0].topics}
    assert CLOSING_CARD in {t.id for t in plan.sessions[-1].topics}
    assert_measures_follow_sessions(plan)


def assert_measures_follow_sessions(plan: Plan) -> None:
    """Every "worked on in session N" names the sessions that now serve that goal; the held count is the plan's."""
    import re

    goal_measures = 0
    for m in plan.success_measures:
        if found := re.search(r"progress on “(.*)” \(worked on in sessions? ([\d, ]+)\)$", m):
            gi = [g.rstrip(".") for g in plan.goals].index(found.group(1))
            assert [int(n) for n in found.group(2).split(", ")] == [s.number for s in plan.sessions if gi in s.goals], m
            goal_measures += 1
        if " held, " in m:
            assert f"{len(plan.sessions)} sessions" in m or len(plan.sessions) == 1, m
    assert goal_measures, plan.success_measures


# --------------------------------------------------------------------------- reading the request


def test_parse_compound_instruction(plan: Plan) -> None:
    edits = parse_edits("Make session 3 about Teams and 30 minutes shorter", plan)
    assert edits == [Edit("topic", session=3, topic="teams"), Edit("length", session=3, delta=-30)]


@pytest.mark.parametrize(
    ("instruction", "expected"),
    [
        ("move session 2 to 2026-02-03", Edit("date", session=2, date=dt.date(2026, 2, 3))),
        ("reschedule session 2 to 3 Feb", Edit("date", session=2, date=dt.date(2026, 2, 3))),
        ("move session 4 a week later", Edit("date", session=4, days=7)),
        ("drop session 4", Edit("drop", session=4)),
        ("add a session on dashboards", Edit("add", topic="dashboards")),
        ("session 3 was cancelled, compress the rest", Edit("cancel", session=3)),
        ("we missed session 5", Edit("cancel", session=5)),
        ("make session 2 60 minutes", Edit("length", session=2, minutes=60)),
        ("make session 2 half an hour", Edit("length", session=2, minutes=30)),
        ("make session 4 an hour and a half", Edit("length", session=4, minutes=90)),
        ("make session 2 shorter by 10 minutes", Edit("length", session=2, delta=-10)),
        ("change the topic of session 2 to phishing", Edit("topic", session=2, topic="phishing")),
        ("make session 2 about Slack and Teams", Edit("topic", session=2, topic="slack and teams")),
        ("push everything back two weeks", Edit("shift", session=1, days=14)),
        ("move session 3 and the rest two weeks earlier", Edit("shift", session=3, days=-14)),
        ("move sessions 3 to 5 two weeks earlier", Edit("shift", session=3, other=5, days=-14)),
        ("push sessions 3-4 back a week", Edit("shift", session=3, other=4, days=7)),
        ("move everything after session 3 a week later", Edit("shift", session=4, days=7)),
        ("from session 4 on, push back two weeks", Edit("shift", session=4, days=14)),
        ("session 3 onwards two weeks earlier", Edit("shift", session=3, days=-14)),
        # From the probe: lists, words for numbers, the last session, imperatives, fortnights and months.
        ("move sessions 3 and 4 back a week", Edit("shift", session=3, other=4, days=7)),
        ("move sessions 2, 3 and 4 back a week", Edit("shift", session=2, other=4, days=7)),
        ("push session 5 and 6 back a week", Edit("shift", session=5, other=6, days=7)),
        ("drop the third session", Edit("drop", session=3)),
        ("drop session three", Edit("drop", session=3)),
        ("delete the last session", Edit("drop", session=6)),
        ("cancel session 5", Edit("cancel", session=5)),
        ("skip session 2", Edit("cancel", session=2)),
        ("postpone session 6 by a fortnight", Edit("date", session=6, days=14)),
        ("push everything forward a month", Edit("shift", session=1, days=-28)),
    ],
)
def test_parse_single_edits(plan: Plan, instruction: str, expected: Edit) -> None:
    assert parse_edits(instruction, plan) == [expected]


def test_lists_and_every_session(plan: Plan) -> None:
    assert parse_edits("drop sessions 2 and 3", plan) == [Edit("drop", session=3), Edit("drop", session=2)]
    # "every session an hour" read "session 60" and refused "a session between 1 and 6, got session 60".
    assert parse_edits("make every session an hour", plan) == [
        Edit("length", session=n, minutes=60) for n in range(1, 7)
    ]
    assert parse_edits("swap sessions 2 and 3", plan) == [Edit("swap", session=2, other=3)]


@pytest.mark.parametrize(
    ("instruction", "unread"),
    [
        ("drop session 4 and close the gap", "drop session 4 and close the gap"),
        ("drop session 4 and make it purple", "make it purple"),
        ("make session 3 60 minutes and tidy up the rest", "make session 3 60 minutes and tidy up the rest"),
        ("swap sessions 2 and 3 and then send it to HR", "send it to hr"),
    ],
)
def test_a_part_no_rule_reads_refuses_the_whole_edit(plan: Plan, retriever, instruction: str, unread: str) -> None:
    """Half an instruction applied read as all of it done (probe finding): nothing changes and the part is named."""
    with pytest.raises(InputError) as err:
        revise_offline(plan, instruction, retriever)
    assert unread in str(err.value) and "nothing was changed" in str(err.value)


@pytest.mark.parametrize(
    "instruction",
    [
        "Helen is travelling in late January, push everything back two weeks",
        "session 3 got cancelled due to illness, compress the rest",
        "push session 4 back a week due to the offsite",
        "make session 2 longer, 60 minutes",
        "please push everything back 2 weeks, thanks",
    ],
)
def test_a_reason_or_courtesy_beside_the_edit_is_not_an_order(
    plan: Plan, retriever, pair: Pair, instruction: str
) -> None:
    assert revise_offline(plan, instruction, retriever, pair).changes


def test_unknown_instruction_offline_is_bad_input(plan: Plan, retriever) -> None:
    with pytest.raises(InputError) as err:
        revise_offline(plan, "make it nicer", retriever)
    assert "INSTRUCTION: " in str(err.value) and "make session 3 about Teams" in str(err.value)
    assert "instruction:" not in str(err.value)  # one label ("INSTRUCTION: instruction: ..." read twice)


def test_session_out_of_range_is_bad_input(plan: Plan, retriever) -> None:
    with pytest.raises(InputError, match="a session between 1 and 6, got session 9"):
        revise_offline(plan, "make session 9 30 minutes shorter", retriever)


# --------------------------------------------------------------------------- offline edits


def test_topic_and_length(plan: Plan, retriever, pair: Pair) -> None:
    result = revise_offline(plan, "make session 3 about dashboards and 30 minutes shorter", retriever, pair)
    new = result.plan
    assert_valid(new, retriever, pair)
    assert mentor_ids(new, 3) == ["data-reading-dashboards"]
    s3 = new.sessions[2]
    assert s3.minutes == 15 and sum(a.minutes for a in s3.agenda) == 15
    assert any(a.lead == "mentee" for a in s3.agenda)  # the senior segment survives the squeeze
    card = retriever.kb.get("data-reading-dashboards")
    # One label per agenda line (issue 12): the card's activity runs under its own title, not "Card - Activity:".
    assert any(a.activity.startswith(act.title) for a in s3.agenda for act in card.activities)
    assert {c.topic_id for c in s3.citations} == {t.id for t in s3.topics}
    # Other sessions are untouched (a goal may move to another session whose cards serve it).
    for a, b in zip(plan.sessions, new.sessions, strict=True):
        if a.number != 3:
            assert a.model_dump(exclude={"goals"}) == b.model_dump(exclude={"goals"})
    # Dashboards serve neither goal of the example pair, which the change list says.
    assert [c.split(" ")[2] for c in result.changes] == ["is", "serves", "now"]
    assert "serves none of Robert Klein's goals" in result.changes[1]


def test_date_change_and_order_is_kept(plan: Plan, retriever, pair: Pair) -> None:
    new = revise_offline(plan, "move session 2 to 2026-02-03", retriever, pair).plan
    assert new.sessions[1].date == dt.date(2026, 2, 3)
    assert_valid(new, retriever, pair)
    with pytest.raises(RevisionRefused, match="must come after session 2"):
        revise_offline(plan, "move session 3 to 20 January", retriever, pair)


def test_drop_middle_and_last_session(plan: Plan, retriever, pair: Pair) -> None:
    new = revise_offline(plan, "drop session 4", retriever, pair).plan
    assert len(new.sessions) == 5
    assert_valid(new, retriever, pair)
    assert [s.date for s in new.sessions] == [s.date for s in plan.sessions if s.number != 4]
    last = revise_offline(plan, "drop session 6", retriever, pair).plan
    assert len(last.sessions) == 5
    assert_valid(last, retriever, pair)  # the closing review moved to the new last session
    assert any(a.activity.startswith("Review of progress") for a in last.sessions[-1].agenda)


def test_a_drop_names_the_gap_it_leaves_and_the_edit_that_closes_it(plan: Plan, retriever, pair: Pair) -> None:
    dropped = revise_offline(plan, "drop session 3", retriever, pair)
    gap = [c for c in dropped.changes if "dates stay as booked" in c]
    assert gap == [
        "the dates stay as booked, so 4 weeks pass between session 2 (Mon 26 Jan 2026) and session 3 (Mon 23 Feb 2026); "
        "to close the gap, say 'move session 3 and the rest 2 weeks earlier'"
    ]
    closed = revise_offline(dropped.plan, "move session 3 and the rest 2 weeks earlier", retriever, pair)
    dates = [s.date for s in closed.plan.sessions]
    assert {(b - a).days for a, b in pairwise(dates)} == {14}
    assert closed.changes == [
        "sessions 3-5 move 2 weeks earlier: session 3 is now on Mon 09 Feb 2026, session 5 on Mon 09 Mar 2026"
    ]
    assert_valid(closed.plan, retriever, pair)
    # Dropping the last session leaves no gap to name.
    assert not [c for c in revise_offline(plan, "drop session 6", retriever, pair).changes if "as booked" in c]


def test_change_lines_say_what_happened(plan: Plan, retriever, pair: Pair) -> None:
    """From the probe: a move to the same date said "moves from Mon 09 Feb to Mon 09 Feb"; a Saturday went
    unremarked; dropping the last session moved the closing review silently; an added session tied to no goal
    was not said."""
    same = plan.sessions[2].date
    result = revise_offline(plan, f"move session 3 to {same.isoformat()}", retriever, pair)
    assert result.changes == [f"session 3 is already on {same:%a %d %b %Y}; its date stays"]
    saturday = revise_offline(plan, "move session 3 to 14 Feb", retriever, pair)
    assert saturday.changes[0].endswith("(a Saturday: check that suits you both)")
    last = revise_offline(plan, "drop session 6", retriever, pair)
    assert "the closing review of progress moves into session 5, now the last" in last.changes
    added = revise_offline(plan, "add a session on TikTok", retriever, pair)
    assert any("serves none of Robert Klein's goals" in c for c in added.changes)


def test_the_plan_notes_what_a_revision_did(plan: Plan, retriever, pair: Pair) -> None:
    result = revise_offline(plan, "drop session 4", retriever, pair)
    assert result.plan.notes[-1] == "Revised offline: “drop session 4”: " + "; ".join(result.changes)
    assert "dropped session 4 (Building slide decks with AI)" in result.plan.notes[-1]


def test_a_range_of_sessions_moves_alone(plan: Plan, retriever, pair: Pair) -> None:
    moved = revise_offline(plan, "push sessions 3-4 back a week", retriever, pair).plan
    before = [s.date for s in plan.sessions]
    assert [s.date for s in moved.sessions] == [
        d + dt.timedelta(days=7) if i in (2, 3) else d for i, d in enumerate(before)
    ]
    with pytest.raises(RevisionRefused, match="in order"):
        revise_offline(plan, "push sessions 4-3 back a week", retriever, pair)


def test_a_topic_that_serves_no_goal_is_said(plan: Plan, retriever, pair: Pair) -> None:
    result = revise_offline(plan, "make session 5 about TikTok", retriever, pair)
    assert not result.plan.sessions[4].goals
    assert "session 5 serves none of Robert Klein's goals" in " ".join(result.changes)
    assert_valid(result.plan, retriever, pair)
    # A topic that serves a goal says nothing of the kind.
    kept = revise_offline(plan, "make session 5 about slide decks", retriever, pair)
    assert kept.plan.sessions[4].goals and "serves none" not in " ".join(kept.changes)


def test_drop_first_session_is_refused(plan: Plan, retriever, pair: Pair) -> None:
    with pytest.raises(RevisionRefused, match="kick-off"):
        revise_offline(plan, "drop session 1", retriever, pair)


def test_add_a_session_before_the_closing_one(plan: Plan, retriever, pair: Pair) -> None:
    new = revise_offline(plan, "add a session on spreadsheets", retriever, pair).plan
    assert len(new.sessions) == 7
    assert_valid(new, retriever, pair)
    assert mentor_ids(new, 6) == ["data-spreadsheet-essentials"]
    assert new.sessions[5].date == plan.sessions[5].date
    assert new.sessions[6].date == plan.sessions[5].date + dt.timedelta(days=14)  # biweekly


def test_compress_after_a_cancellation_keeps_every_topic(plan: Plan, retriever, pair: Pair) -> None:
    result = revise_offline(plan, "session 3 was cancelled, compress the rest", retriever, pair)
    new = result.plan
    assert len(new.sessions) == 5
    assert_valid(new, retriever, pair)
    before = {t for n in range(3, 7) for t in mentor_ids(plan, n)}
    after = {t for n in range(3, 6) for t in mentor_ids(new, n)}
    assert before <= after
    assert new.sessions[:2] == plan.sessions[:2]  # held sessions unchanged
    assert [s.date for s in new.sessions[2:]] == [s.date for s in plan.sessions[3:]]
    assert "was cancelled" in result.changes[0]


def test_cancelling_the_last_session_is_refused(plan: Plan, retriever, pair: Pair) -> None:
    with pytest.raises(RevisionRefused, match="add a session instead"):
        revise_offline(plan, "session 6 was cancelled", retriever, pair)


def test_out_of_range_length_is_refused(plan: Plan, retriever, pair: Pair) -> None:
    with pytest.raises(RevisionRefused, match="200 minutes"):
        revise_offline(plan, "make session 2 200 minutes", retriever, pair)


def test_topic_no_card_covers_is_refused(plan: Plan, retriever, pair: Pair) -> None:
    with pytest.raises(RevisionRefused, match="lasagne"):
        revise_offline(plan, "make session 2 about lasagne recipes", retriever, pair)


def test_revision_works_from_the_plan_alone(plan: Plan, retriever) -> None:
    new = revise_offline(plan, "make session 2 60 minutes", retriever).plan
    assert new.sessions[1].minutes == 60
    assert check_revised(new, retriever.kb) == []


# --------------------------------------------------------------------------- issue 12: revisions people write


def no_ids_in(texts: list[str], retriever) -> None:
    ids = {c.id for c in retriever.kb.cards}
    for line in texts:
        assert not any(i in line for i in ids), line


def test_topic_by_a_word_of_a_card_title(plan: Plan, retriever, pair: Pair) -> None:
    result = revise_offline(plan, "make session 2 about Teams", retriever, pair)
    assert_valid(result.plan, retriever, pair)
    teams = next(c for c in retriever.kb.cards if c.title.startswith("Microsoft Teams"))
    assert mentor_ids(result.plan, 2) == [teams.id]
    assert len(result.changes) == 2 and teams.title in result.changes[0] and "serves none" in result.changes[1]
    no_ids_in(result.changes, retriever)
    for word, title_word in (("Excel", "Excel"), ("TikTok", "TikTok")):
        new = revise_offline(plan, f"make session 3 about {word}", retriever, pair).plan
        (cid,) = mentor_ids(new, 3)
        assert title_word in retriever.kb.get(cid).title


def test_push_everything_back_two_weeks(plan: Plan, retriever, pair: Pair) -> None:
    result = revise_offline(
        plan, "Helen is travelling in late January, push everything back two weeks", retriever, pair
    )
    assert [s.date for s in result.plan.sessions] == [s.date + dt.timedelta(days=14) for s in plan.sessions]
    assert_valid(result.plan, retriever, pair)
    assert "every session moves 2 weeks later" in result.changes[0]
    moved = revise_offline(plan, "move session 3 to 14 Feb", retriever, pair).plan
    assert moved.sessions[2].date == dt.date(2026, 2, 14)


def test_swap_sessions_2_and_3(plan: Plan, retriever, pair: Pair) -> None:
    result = revise_offline(plan, "swap sessions 2 and 3", retriever, pair)
    new = result.plan
    assert mentor_ids(new, 2) == mentor_ids(plan, 3) and mentor_ids(new, 3) == mentor_ids(plan, 2)
    assert [s.date for s in new.sessions] == [s.date for s in plan.sessions]
    # Asked for in so many words, a swap may put a card before its prerequisite: applied, and said so.
    problems = check_revised(new, retriever.kb, pair)
    assert all("comes before its prerequisite" in p for p in problems), problems
    if problems:
        assert any(c.startswith("note:") and "swap back" in c for c in result.changes)
    for s in new.sessions:
        assert sum(a.minutes for a in s.agenda) == s.minutes
    no_ids_in(result.changes, retriever)


def test_make_session_4_45_minutes(plan: Plan, retriever, pair: Pair) -> None:
    shorter = revise_offline(plan, "make session 4 30 minutes", retriever, pair).plan
    result = revise_offline(shorter, "make session 4 45 minutes", retriever, pair)
    s4 = result.plan.sessions[3]
    assert s4.minutes == 45 and sum(a.minutes for a in s4.agenda) == 45
    assert_valid(result.plan, retriever, pair)


def test_refusals_say_what_works_and_name_no_environment_variable(plan: Plan, retriever, pair: Pair) -> None:
    with pytest.raises(InputError) as err:
        revise_offline(plan, "make it nicer", retriever, pair)
    assert "push everything back two weeks" in str(err.value)
    assert "COACH_" not in str(err.value) and "--model" not in str(err.value)
    with pytest.raises(RevisionRefused) as refused:
        revise_offline(plan, "make session 2 about lasagne recipes", retriever, pair)
    assert "COACH_" not in str(refused.value) and "title" in str(refused.value)


def test_three_revisions_in_a_row_repeat_no_activity(plan: Plan, retriever, pair: Pair) -> None:
    from coach.checks import activity_repeats, activity_uses

    current = plan
    for instruction in ("make session 2 about Teams", "make session 4 about Excel", "make session 5 about Teams"):
        current = revise_offline(current, instruction, retriever, pair).plan
        assert_valid(current, retriever, pair)
    assert activity_repeats(current, retriever.kb) == []
    for found in activity_uses(current, retriever.kb):
        assert len(found) == len(set(found))  # never the same activity twice within a session
    texts = [a.activity for s in current.sessions for a in s.agenda if len(a.activity) > 80]
    assert len(texts) == len(set(texts))


def test_a_revision_that_repeats_an_activity_is_refused(plan: Plan, retriever, pair: Pair) -> None:
    from coach.revision_checks import new_problems

    bad = plan.model_copy(deep=True)
    s2 = bad.sessions[1]
    block = next(a for a in s2.agenda if a.lead == "mentee")
    block.minutes -= 2
    s2.agenda.append(block.model_copy(update={"minutes": 2}))
    problems = new_problems(plan, bad, retriever.kb, pair)
    assert any("twice" in p for p in problems), problems


# --------------------------------------------------------------------------- through a model


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):
    with FakeOpenAI() as s:
        use_server(monkeypatch, s, COACH_MAX_TOKENS="20000")
        yield s


def shorter_session_3(p: dict) -> None:
    s = p["sessions"][2]
    s["minutes"] = 30
    s["agenda"] = [
        {"minutes": 10, "activity": "Teams tour", "lead": "mentor"},
        *[a for a in s["agenda"] if a["lead"] == "mentee"][:1],
    ]
    s["agenda"][1]["minutes"] = 20


def test_model_edit_is_checked_and_used(server: FakeOpenAI, plan: Plan, retriever, pair: Pair) -> None:
    server.push(plan_from_prompt(shorter_session_3, block="plan"))
    result = revise(plan, "make session 3 half an hour, mostly the senior's segment", retriever, pair, provider())
    assert result.engine == "openai"
    assert result.plan.sessions[2].minutes == 30
    assert result.plan.generated_by.model == "fake-model" and result.plan.attempts == 1
    assert_valid(result.plan, retriever, pair)
    body = server.requests[0]
    user = body["messages"][1]["content"]
    assert '<data name="edit_request">\nmake session 3 half an hour' in user


def test_model_edit_breaking_rules_is_repaired_or_refused(
    server: FakeOpenAI, plan: Plan, retriever, pair: Pair
) -> None:
    def no_senior(p: dict) -> None:
        p["sessions"][1]["agenda"] = [{"minutes": 45, "activity": "Lecture", "lead": "mentor"}]

    server.always(plan_from_prompt(no_senior, block="plan"))
    with pytest.raises(RevisionRefused) as err:
        revise(plan, "turn session 2 into a lecture", retriever, pair, provider())
    assert "senior leader leads" in str(err.value)
    assert len(server.requests) == 3
    assert "senior leader leads" in server.requests[1]["messages"][-1]["content"]


def test_model_failure_falls_back_to_offline_edit(server: FakeOpenAI, plan: Plan, retriever, pair: Pair) -> None:
    server.always(text("I think session 3 should be shorter."))
    result = revise(plan, "make session 3 30 minutes shorter", retriever, pair, provider())
    assert result.engine == "offline"
    assert result.plan.sessions[2].minutes == 15
    assert result.plan.fallback_reason and "applied the edit offline" in result.plan.fallback_reason


# --------------------------------------------------------------------------- CLI


def test_cli_revise_writes_a_checked_plan(indexed_home: Path, tmp_path: Path, plan: Plan) -> None:
    from coach.export import to_json

    src = tmp_path / "plan.json"
    src.write_text(to_json(plan))
    out = tmp_path / "revised.json"
    result = CliRunner().invoke(
        cli, ["revise", "--plan", str(src), "make session 3 about dashboards and 30 minutes shorter", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["sessions"][2]["minutes"] == 15
    # Changes in plain words (issue 12), not "session 3: 45 -> 15 minutes".
    assert "changed: session 3 now runs 15 minutes (was 45)" in result.output


def test_cli_format_follows_the_out_extension(indexed_home: Path, tmp_path: Path, plan: Plan) -> None:
    """`coach plan --out plan.json` writes JSON (it wrote Markdown, which `coach revise --plan` then refused)."""
    made = tmp_path / "plan.json"
    result = CliRunner().invoke(cli, ["plan", "--pair", str(EXAMPLE), "--out", str(made)])
    assert result.exit_code == 0, result.output
    assert json.loads(made.read_text())["sessions"]
    md = tmp_path / "revised.md"
    result = CliRunner().invoke(cli, ["revise", "--plan", str(made), "drop session 4", "--out", str(md)])
    assert result.exit_code == 0, result.output
    assert md.read_text().startswith("# Reverse-mentoring plan")
    # An explicit --format wins over the extension; a Markdown plan given to --plan is named as such.
    result = CliRunner().invoke(cli, ["plan", "--pair", str(EXAMPLE), "--format", "md", "--out", str(made)])
    assert result.exit_code == 0 and made.read_text().startswith("# ")
    result = CliRunner().invoke(cli, ["revise", "--plan", str(made), "drop session 4"])
    assert result.exit_code == 2 and "this is a Markdown plan" in result.output


def test_cli_refused_edit_writes_nothing(indexed_home: Path, tmp_path: Path, plan: Plan) -> None:
    from coach.export import to_json

    src = tmp_path / "plan.json"
    src.write_text(to_json(plan))
    out = tmp_path / "revised.json"
    result = CliRunner().invoke(cli, ["revise", "--plan", str(src), "drop session 1", "--out", str(out)])
    # The instruction is the bad input (SPEC section 8): exit 2, naming it, and nothing written.
    assert result.exit_code == 2
    assert result.output.startswith("error: INSTRUCTION: the edit was refused") and "kick-off" in result.output
    assert not out.exists()


def test_cli_bad_plan_file_is_exit_2(indexed_home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "plan.json"
    bad.write_text('{"mentor": {"name": "A"}}')
    result = CliRunner().invoke(cli, ["revise", "--plan", str(bad), "drop session 2"])
    assert result.exit_code == 2
    assert str(bad) in result.output
