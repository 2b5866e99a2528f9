"""Calendar (.ics) and Word (.docx) exports, read back with the same libraries a user's tools rely on."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from coach.cli import cli
from coach.export import to_docx, to_ics
from coach.models import (
    AgendaItem,
    Citation,
    DiscussionPrompt,
    PersonRef,
    Plan,
    PlanTopic,
    Session,
)


def plan(n: int = 3) -> Plan:
    sessions = [
        Session(
            number=i + 1,
            date=dt.date(2026, 1, 12) + dt.timedelta(days=14 * i),
            title=f"Prompting, part {i + 1}; commas, semicolons & <tags>",
            minutes=45,
            topics=[PlanTopic(id="genai-prompting-basics", title="Prompting basics", domain="generative-ai")],
            objectives=[f"Write a role-task-context prompt ({i + 1})"],
            pre_work=["Bring a real board-report paragraph"] if i == 0 else [],
            agenda=[
                AgendaItem(minutes=25, activity=f"Live demo {i + 1}: rewrite a memo", lead="mentor"),
                AgendaItem(minutes=15, activity=f"How the budget cycle works {i + 1}", lead="mentee"),
                AgendaItem(minutes=5, activity="Wrap-up and ratings", lead="both"),
            ],
            discussion_prompts=[
                DiscussionPrompt(text=f"Where would this save you an hour? ({i})", asked_by="mentor"),
                DiscussionPrompt(text=f"Which decision would you never delegate to AI? ({i})", asked_by="mentee"),
            ],
            reflection=["One thing to try before next time"],
            citations=[Citation(topic_id="genai-prompting-basics", source="knowledge_base/x.yaml")],
            goals=[0],
        )
        for i in range(n)
    ]
    return Plan(
        mentor=PersonRef(name="Priya Shah", role="Data Analyst"),
        mentee=PersonRef(name="Robert Klein", role="Chief Financial Officer"),
        ground_rules=["What is said here stays here"],
        success_measures=["Five of six sessions held"],
        sessions=sessions,
        goals=["draft board reports with AI safely"],
        notes=["2026-02-01: re-planned: session 2 cancelled"],
    )


def test_ics_one_event_per_session_with_agenda() -> None:
    from icalendar import Calendar

    p = plan(3)
    cal = Calendar.from_ical(to_ics(p))
    events = list(cal.walk("VEVENT"))
    assert len(events) == 3
    for s, ev in zip(p.sessions, events, strict=True):
        assert ev.decoded("dtstart") == s.date
        assert ev.decoded("dtend") == s.date + dt.timedelta(days=1)
        assert str(ev["summary"]) == f"Reverse mentoring {s.number}/3: {s.title}"
        desc = str(ev["description"])
        for item in s.agenda:
            assert item.activity in desc
        assert "Robert Klein asks: Which decision" in desc  # the lead is named, not "mentee"
        assert "0:25 (15 min, Robert Klein)" in desc  # clock offsets like the Markdown agenda
        assert ev["uid"]
    assert len({str(ev["uid"]) for ev in events}) == 3
    # The same pair and session keep their UID across versions, so a re-import updates the events.
    again = Calendar.from_ical(to_ics(p))
    assert [str(e["uid"]) for e in again.walk("VEVENT")] == [str(e["uid"]) for e in events]


def test_ics_timed_events_last_the_session() -> None:
    from icalendar import Calendar

    cal = Calendar.from_ical(to_ics(plan(2), dt.time(9, 30)))
    ev = next(iter(cal.walk("VEVENT")))
    start, end = ev.decoded("dtstart"), ev.decoded("dtend")
    assert start == dt.datetime(2026, 1, 12, 9, 30)
    assert end - start == dt.timedelta(minutes=45)


def test_ics_lines_are_folded_for_calendar_apps() -> None:
    raw = to_ics(plan(1))
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n")
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))


def test_docx_is_an_editable_document_with_every_session() -> None:
    from docx import Document

    p = plan(3)
    doc = Document(io.BytesIO(to_docx(p)))
    texts = [para.text for para in doc.paragraphs]
    headings = [para.text for para in doc.paragraphs if para.style.name.startswith(("Heading", "Title"))]
    assert headings[0] == "Reverse-mentoring plan: Robert Klein and Priya Shah"
    for s in p.sessions:
        assert f"Session {s.number} - {s.title}" in headings
    assert "Ground rules" in headings and "Notes" in headings
    assert "What is said here stays here" in texts
    assert any("Robert Klein asks: Which decision would you never delegate to AI? (2)" in t for t in texts)
    # Overview table plus one agenda table per session, with times, minutes, activity and who leads.
    assert len(doc.tables) == 1 + 3
    overview = doc.tables[0]
    assert [c.text for c in overview.rows[0].cells] == ["#", "Date", "Title", "Main topics"]
    assert len(overview.rows) == 4
    agenda = doc.tables[2]
    assert [[c.text for c in r.cells] for r in agenda.rows] == [
        ["Time", "Minutes", "Activity", "Leads"],
        ["0:00", "25", "Live demo 2: rewrite a memo", "Priya Shah"],
        ["0:25", "15", "How the budget cycle works 2", "Robert Klein"],
        ["0:40", "5", "Wrap-up and ratings", "Both"],
    ]
    assert doc.core_properties.author == "Mentor Coach"


@pytest.fixture
def stored(monkeypatch: pytest.MonkeyPatch):
    from coach.config import load_settings
    from coach.models import Mentee, Mentor, Pair, Program
    from coach.store import close_stores, open_store

    store = open_store(load_settings())
    pair = Pair(
        mentor=Mentor(name="Priya Shah", role="Data Analyst"),
        mentee=Mentee(name="Robert Klein", role="Chief Financial Officer", goals=["draft board reports"]),
        program=Program(sessions=3, minutes=45, cadence="biweekly", start=dt.date(2026, 1, 12)),
    )
    pid = store.add_pair(pair)
    store.save_plan(pid, plan(3), "generated")
    store.save_plan(pid, plan(2), "re-planned")
    yield pid
    close_stores()


def test_cli_exports_stored_plans(stored: str, tmp_path: Path) -> None:
    from docx import Document
    from icalendar import Calendar

    runner = CliRunner()
    ics = tmp_path / "plan.ics"
    res = runner.invoke(cli, ["pair", "export", stored, "--format", "ics", "--out", str(ics)])
    assert res.exit_code == 0, res.stderr
    assert len(list(Calendar.from_ical(ics.read_bytes()).walk("VEVENT"))) == 2  # the latest version
    res = runner.invoke(cli, ["pair", "export", stored, "--format", "ics", "--version", "1", "--time", "14:00"])
    assert res.exit_code == 0 and res.stdout.count("BEGIN:VEVENT") == 3 and "T140000" in res.stdout
    docx_path = tmp_path / "plan.docx"
    res = runner.invoke(cli, ["pair", "export", stored, "--format", "docx", "--out", str(docx_path)])
    assert res.exit_code == 0
    assert len(Document(str(docx_path)).tables) == 1 + 2
    res = runner.invoke(cli, ["pair", "export", stored, "--format", "docx"])
    assert res.exit_code == 2 and "--out" in res.stderr
    res = runner.invoke(cli, ["pair", "export", stored, "--format", "ics", "--time", "9am"])
    assert res.exit_code == 2 and "HH:MM" in res.stderr
    res = runner.invoke(cli, ["pair", "export", stored, "--format", "md", "--version", "9"])
    assert res.exit_code == 2
    assert not list(tmp_path.glob(".*.tmp"))


def test_ics_timed_in_the_pairs_zone_with_attendees(tmp_path: Path, indexed_home: Path) -> None:
    """`coach plan --format ics` with time and timezone: timed events in that zone, both people invited."""
    import yaml
    from icalendar import Calendar

    root = Path(__file__).resolve().parents[2]
    data = yaml.safe_load((root / "examples" / "pair.yaml").read_text(encoding="utf-8"))
    data["program"].update(time="09:30", timezone="Europe/London")
    data["mentor"]["email"] = "priya.shah@example.com"
    data["mentee"]["email"] = "robert.klein@example.com"
    pair_file = tmp_path / "pair.yaml"
    pair_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "plan.ics"
    result = CliRunner().invoke(cli, ["plan", "--pair", str(pair_file), "--format", "ics", "--out", str(out)])
    assert result.exit_code == 0, result.output
    cal = Calendar.from_ical(out.read_bytes())
    events = list(cal.walk("VEVENT"))
    assert len(events) == data["program"]["sessions"]
    first = events[0]
    start, end = first.decoded("dtstart"), first.decoded("dtend")
    assert isinstance(start, dt.datetime) and start.tzinfo is not None
    assert str(start.tzinfo) == "Europe/London"
    assert (start.date(), start.time()) == (dt.date(2026, 1, 12), dt.time(9, 30))
    assert start.utcoffset() == dt.timedelta(0)  # London is on GMT in January
    assert end - start == dt.timedelta(minutes=45)
    attendees = {str(a).lower() for a in first.get("attendee")}
    assert attendees == {"mailto:priya.shah@example.com", "mailto:robert.klein@example.com"}
    description = first.decoded("description")
    assert "Both asks" not in (description.decode() if isinstance(description, bytes) else description)
    # Without a time the same export is all-day, with no zone and no invitation needed.
    data["program"].pop("time")
    data["program"].pop("timezone")
    pair_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = CliRunner().invoke(cli, ["plan", "--pair", str(pair_file), "--format", "ics", "--out", str(out)])
    assert result.exit_code == 0, result.output
    first = next(iter(Calendar.from_ical(out.read_bytes()).walk("VEVENT")))
    assert type(first.decoded("dtstart")) is dt.date


def test_cli_calendar_of_a_stored_pair_follows_its_logged_sessions(stored: str) -> None:
    from icalendar import Calendar

    runner = CliRunner()
    assert (
        runner.invoke(cli, ["session", "log", stored, "1", "--status", "cancelled", "--date", "2026-01-10"]).exit_code
        == 0
    )
    assert (
        runner.invoke(cli, ["session", "log", stored, "2", "--status", "moved", "--date", "2026-02-02"]).exit_code == 0
    )
    res = runner.invoke(cli, ["pair", "export", stored, "--format", "ics"])
    assert res.exit_code == 0, res.stderr
    events = {
        str(e["uid"]).split("-session-")[1].split("@")[0]: e for e in Calendar.from_ical(res.stdout).walk("VEVENT")
    }
    first, second = events["1"], events["2"]
    # A cancelled session stays, cancelled (a calendar that imported it cancels its event); a moved one moves.
    assert str(first["status"]) == "CANCELLED" and str(first["summary"]).startswith("Cancelled: ")
    assert second["dtstart"].dt == dt.date(2026, 2, 2) and "status" not in second
