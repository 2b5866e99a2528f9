"""The app's helpers without a server: escaping, form errors in plain words, revision wording, launch guards."""

from __future__ import annotations

from pathlib import Path

import pytest

from coach.errors import InputError
from ui.cardform import card_to_form, check_card
from ui.forms import HINTS, form_data, pair_to_form, validate
from ui.plan_tab import compose_instruction
from ui.safe import escape


@pytest.mark.parametrize(
    "raw",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        "![x](http://tracker.example/p.png)",
        "<svg onload=alert(1)>",
    ],
)
def test_escape_leaves_no_markup(raw: str) -> None:
    out = escape(raw)
    assert "<" not in out and ">" not in out
    assert "](" not in out and "![" not in out
    assert "javascript:" not in out


def test_escape_keeps_plain_text_and_emphasis() -> None:
    assert escape("**Bold** and _plain_ text, 3 < 4 & 5") == "**Bold** and _plain_ text, 3 &lt; 4 &amp; 5"


def _form(**over: object) -> tuple[dict, dict]:
    values: dict = {
        "mentor_name": "Priya",
        "mentor_role": "Analyst",
        "strengths": "",
        "mentee_name": "Rob",
        "mentee_role": "CFO",
        "goals": "use AI safely",
        "comfort": [3] * 7,
        "sessions": 4,
        "minutes": 45,
        "cadence": "weekly",
        "start": "2026-01-12",
    }
    values.update(over)
    return form_data(**values)


def test_valid_form_gives_a_pair() -> None:
    data, early = _form()
    result = validate(data, early)
    assert result.ok and result.pair is not None
    assert result.pair.program.sessions == 4


def test_a_comfort_left_at_3_is_no_rating() -> None:
    data, early = _form(comfort=[1, 3, 3, 5, 3, 3, 3])
    result = validate(data, early)
    assert result.ok and result.pair is not None
    assert result.pair.mentee.comfort == {"generative-ai": 1, "social-media": 5}


@pytest.mark.parametrize(
    ("over", "slots"),
    [
        ({"time": "25:00", "timezone": "Europe/London"}, {"time"}),
        ({"time": "09:30", "timezone": ""}, {"timezone"}),
        ({"time": "09:30", "timezone": "Mars/Olympus"}, {"timezone"}),
        ({"mentor_email": "priya at example"}, {"mentor_email"}),
        ({"mentee_email": "rob@"}, {"mentee_email"}),
    ],
)
def test_bad_calendar_details_are_reported_at_their_slot(over: dict, slots: set[str]) -> None:
    data, early = _form(**over)
    result = validate(data, early)
    assert not result.ok and not result.other
    assert set(result.errors) == slots


def test_calendar_details_reach_the_pair_and_back_into_the_form() -> None:
    data, early = _form(time="9:05", timezone="America/New_York", mentor_email="p@example.com", mentee_email="")
    result = validate(data, early)
    assert result.ok and result.pair is not None
    assert result.pair.program.time is not None and result.pair.program.time.strftime("%H:%M") == "09:05"
    assert result.pair.mentor.email == "p@example.com" and result.pair.mentee.email is None
    values = pair_to_form(result.pair.model_dump(mode="json"))
    assert (values["time"], values["timezone"], values["mentor_email"]) == (
        "09:05",
        "America/New_York",
        "p@example.com",
    )
    # YAML 1.1 reads an unquoted 09:30 as 570 minutes; the form shows it as a clock time again.
    assert pair_to_form({"program": {"time": 570}})["time"] == "09:30"


def test_generate_with_time_and_zone_offers_a_timed_calendar_with_both_invited(tmp_path: Path) -> None:
    import icalendar

    from ui.plan_tab import generate

    form = [
        *["Priya", "Analyst", "prompting", "Rob", "CFO", "use AI safely"],
        *[3] * 7,
        *[2, 45, "weekly", "2027-01-11", "14:00", "Europe/Berlin", "priya@example.com", "rob@example.com"],
    ]
    out = list(generate(*form))[-1]
    ics_update = out[-2]  # downloads are Markdown, JSON, calendar, Word
    cal = icalendar.Calendar.from_ical(Path(ics_update["value"]).read_bytes())
    events = [c for c in cal.walk() if c.name == "VEVENT"]
    assert len(events) == 2
    start = events[0].decoded("DTSTART")
    assert str(start.tzinfo) == "Europe/Berlin" and (start.hour, start.minute) == (14, 0)
    attendees = {str(a).lower() for a in events[0].get("ATTENDEE")}
    assert attendees == {"mailto:priya@example.com", "mailto:rob@example.com"}


def test_a_past_start_is_explained_with_the_form_field_not_a_yaml_key() -> None:
    from ui.plan_tab import generate

    form = [
        *["Priya", "Analyst", "prompting", "Rob", "CFO", "use AI safely"],
        *[3] * 7,
        *[2, 45, "weekly", "2025-01-13", "", "", "", ""],
    ]
    summary = list(generate(*form))[-1][0]
    assert "Mon 13 Jan 2025, which is in the past; set “First session” above to the date" in summary
    assert "program.start" not in summary


@pytest.mark.parametrize(
    ("over", "slot"),
    [
        ({"mentor_name": ""}, "mentor_name"),
        ({"goals": ""}, "goals"),
        ({"goals": "\n".join(f"goal {i}" for i in range(13))}, "goals"),
        ({"sessions": 30}, "sessions"),
        ({"sessions": None}, "sessions"),
        ({"minutes": 5}, "minutes"),
        ({"start": "next tuesday"}, "start"),
        ({"cadence": "daily"}, "cadence"),
    ],
)
def test_each_bad_field_is_reported_at_its_slot_in_plain_words(over: dict, slot: str) -> None:
    data, early = _form(**over)
    result = validate(data, early)
    assert not result.ok
    assert set(result.errors) == {slot}
    assert result.errors[slot] == HINTS[slot]


def test_uploaded_data_fills_the_form_even_when_invalid() -> None:
    values = pair_to_form({"mentor": {"name": "A"}, "mentee": {"goals": ["x", "y"], "comfort": {"generative-ai": 1}}})
    assert values["mentor_name"] == "A" and values["goals"] == "x\ny"
    assert values["comfort"][0] == 1 and values["sessions"] == 6


@pytest.mark.parametrize(
    ("which", "change", "expected"),
    [
        ("Session 3", "about Teams", "make session 3 about Teams"),
        ("Session 3", "30 minutes shorter", "make session 3 30 minutes shorter"),
        ("Session 2", "move it to 2026-02-03", "move session 2 to 2026-02-03"),
        ("Session 4", "drop it", "drop session 4"),
        ("Session 2", "make it about Teams", "make session 2 about Teams"),
        ("Session 2", "make this session 30 minutes", "make session 2 30 minutes"),
        ("Session 3", "change this to TikTok", "change session 3 to TikTok"),
        ("The whole plan", "make it about Teams", "make it about Teams"),
        ("The whole plan", "add a session on dashboards", "add a session on dashboards"),
        ("Session 1", "session 3 was cancelled, compress the rest", "session 3 was cancelled, compress the rest"),
    ],
)
def test_revision_instruction_names_the_chosen_session(which: str, change: str, expected: str) -> None:
    assert compose_instruction(which, change) == expected


def test_the_revise_box_example_works_on_a_chosen_session_and_asks_which_on_the_whole_plan() -> None:
    from coach.models import Pair
    from coach.pairs import load_pair
    from ui.plan_tab import make_plan, revise_plan

    pair: Pair = load_pair(Path(__file__).resolve().parents[2] / "examples" / "pair.yaml")
    plan = make_plan(pair).to_json_dict()
    pair_json = pair.model_dump(mode="json")
    asked = revise_plan(plan, pair_json, "The whole plan", "make it about Teams")[0]
    assert asked.startswith("Which session should change?") and "What to change" in asked
    assert "could not read" not in asked and "COACH_" not in asked
    done = revise_plan(plan, pair_json, "Session 2 · anything", "make it about Teams")[0]
    assert done.startswith("Done: session 2 is now about Microsoft Teams"), done
    # A part it cannot read is named once, with the examples once (they were listed twice).
    half = revise_plan(plan, pair_json, "The whole plan", "drop session 4 and close the gap")[0]
    assert half.startswith("I could not read 'drop session 4 and close the gap', so nothing was changed."), half
    assert half.count("swap sessions 2 and 3") == 1
    unread = revise_plan(plan, pair_json, "The whole plan", "make it nicer")[0]
    assert unread.startswith("I could not read that as a change.") and unread.count("swap sessions 2 and 3") == 1


def test_card_form_round_trips_and_rejects_bad_lines() -> None:
    from coach.config import DEFAULT_KB
    from coach.knowledge import load_knowledge

    kb = load_knowledge([DEFAULT_KB])
    card = kb.get("genai-prompting-basics")
    assert card is not None
    values = card_to_form(card)
    ok = check_card(values, kb, editing=card.id)
    assert ok.card is not None and ok.card.activities == card.activities
    clash = check_card(values, kb, editing=None)
    assert "id" in clash.errors
    broken = dict(values, id="new-card-x", activities="ten minutes of something", prerequisites="no-such-card")
    bad = check_card(broken, kb, editing=None)
    assert bad.card is None and "activities" in bad.errors


def test_bind_beyond_loopback_needs_a_password(monkeypatch: pytest.MonkeyPatch) -> None:
    from ui.app import check_bind

    monkeypatch.delenv("COACH_ADMIN_PASSWORD", raising=False)
    check_bind("127.0.0.1", False)
    with pytest.raises(InputError, match=r"127\.0\.0\.1"):
        check_bind("0.0.0.0", False)
    with pytest.raises(InputError, match="COACH_ADMIN_PASSWORD"):
        check_bind("127.0.0.1", True)
    monkeypatch.setenv("COACH_ADMIN_PASSWORD", "pw")
    check_bind("0.0.0.0", False)


def test_blocked_paths_cover_home_and_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from coach.config import PACKAGE_ROOT
    from ui.app import blocked_paths

    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    home = tmp_path / "home"
    blocked = blocked_paths(home)
    assert str(home.resolve()) in blocked
    assert str(work.resolve()) in blocked
    assert str(PACKAGE_ROOT.resolve()) in blocked


def test_a_working_directory_holding_the_download_cache_is_not_blocked_whole(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import tempfile

    from ui.app import blocked_paths

    monkeypatch.chdir(tempfile.gettempdir())
    home = tmp_path / "home"
    blocked = blocked_paths(home)
    assert str(Path(tempfile.gettempdir()).resolve()) not in blocked
    assert str(home.resolve()) in blocked


def test_cli_refuses_an_open_bind_without_a_password(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from coach.cli import cli

    monkeypatch.delenv("COACH_ADMIN_PASSWORD", raising=False)
    result = CliRunner().invoke(cli, ["ui", "--host", "0.0.0.0", "--port", "1"])
    assert result.exit_code == 2
    assert "COACH_ADMIN_PASSWORD" in result.output


def test_example_pair_fills_every_form_field() -> None:
    from ui.plan_tab import fill_example

    msg, *values = fill_example()
    assert "Form filled from the example pair" in msg and "need fixing" not in msg
    assert values[:2] == ["Priya Shah", "Data Analyst"]
    assert values[5].splitlines()[0] == "use generative AI to draft board reports safely"
    # ... start, then the optional calendar details (time, time zone, both emails), empty in the example.
    # The example's own start (2026-01-12) is past: the demo starts next Monday, so no past-date warning.
    from ui.forms import next_monday

    assert values[-5:] == [next_monday().isoformat(), "", "", "", ""]


def test_stored_pairs_are_offered_and_used_only_after_an_admin_login(
    writable_index_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from support import EXAMPLE_PAIR

    from coach.config import load_settings
    from coach.pairs import load_pair
    from coach.store import open_store
    from ui import access
    from ui.coach_tab import LOGIN_FOR_PAIRS, context_for, pair_choices, respond

    monkeypatch.setenv("COACH_ADMIN_PASSWORD", "a-long-admin-secret")
    example = load_pair(EXAMPLE_PAIR)
    stored = f"pair:{open_store(load_settings()).add_pair(example)}"

    visitor = access.Session()
    assert stored not in [value for _, value in pair_choices(stored=access.is_admin(visitor))]
    ctx, note = context_for(stored, "mentee", None, admin=access.is_admin(visitor))
    assert ctx.pair is None and note == LOGIN_FOR_PAIRS
    # The chat endpoint checks the session itself, whatever value a client sends.
    *_, (history, _, _) = respond("Prepare me for session 2", [], "mentee", stored, None, visitor)
    assert "Stored pairs are for admins" in history[-1]["content"]
    assert example.mentee.name not in history[-1]["content"]

    admin = access.Session(admin=True)
    assert stored in [value for _, value in pair_choices(stored=access.is_admin(admin))]
    ctx, note = context_for(stored, "mentee", None, admin=access.is_admin(admin))
    assert note is None and ctx.pair is not None and ctx.pair.mentee.name == example.mentee.name
    *_, (history, _, _) = respond("Prepare me for session 2", [], "mentee", stored, None, admin)
    assert "Stored pairs are for admins" not in history[-1]["content"]


def test_the_chat_memory_reads_gradio_6_message_parts() -> None:
    """Gradio 6 sends chat messages back as lists of parts; the conversation's memory must read them."""
    from ui.coach_tab import earlier_turns

    history = [
        {"role": "user", "content": [{"type": "text", "text": "build me a 30-minute lesson on prompting"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "A 30-minute lesson: Prompting"}]},
        {"role": "user", "content": "plain text still works"},
        {"role": "assistant", "content": "an answer"},
    ]
    assert earlier_turns(history) == [
        ("build me a 30-minute lesson on prompting", "A 30-minute lesson: Prompting"),
        ("plain text still works", "an answer"),
    ]
