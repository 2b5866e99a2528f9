"""Who is due which reminder on a given date, the messages' words and headers, and the SMTP URL."""

from __future__ import annotations

import datetime as dt
import email
from email import policy
from types import SimpleNamespace

import pytest

from coach.assessments import Assessment
from coach.errors import InputError
from coach.mail import Mail, build_message, parse_smtp_url, sender_from_env
from coach.metrics import PairFacts
from coach.models import AgendaItem, Citation, DiscussionPrompt, PersonRef, Plan, PlanTopic, Session
from coach.remind import DueItem, assessment_mail, assessments_due, briefing_mail, briefings_due

START = dt.date(2026, 1, 12)  # sessions on 12 Jan, 26 Jan, 9 Feb, 23 Feb 2026


def make_plan(sessions: int = 4) -> Plan:
    """A hand-built biweekly plan with its own words in every session."""
    return Plan(
        mentor=PersonRef(name="Priya Shah", role="Data Analyst"),
        mentee=PersonRef(name="Robert Klein", role="CFO"),
        ground_rules=["confidential"],
        success_measures=["80% held"],
        goals=["draft board reports with AI", "understand Gen Z"],
        sessions=[
            Session(
                number=i,
                date=START + dt.timedelta(days=14 * (i - 1)),
                title=f"Prompting step {i}",
                minutes=45,
                topics=[PlanTopic(id="genai-prompting-basics", title="Prompting basics", domain="generative-ai")],
                objectives=[f"write prompt number {i}"],
                pre_work=[f"bring report draft {i}"],
                agenda=[
                    AgendaItem(minutes=30, activity="Live prompting demo", lead="mentor"),
                    AgendaItem(minutes=15, activity="Budget walkthrough", lead="mentee"),
                ],
                discussion_prompts=[DiscussionPrompt(text="Where would this save you an hour?", asked_by="mentee")],
                reflection=["what will you try?"],
                citations=[Citation(topic_id="genai-prompting-basics", source="kb/genai.yaml")],
            )
            for i in range(1, sessions + 1)
        ],
    )


def rec(status: str, day: str) -> SimpleNamespace:
    """A logged session's latest record."""
    return SimpleNamespace(status=status, date=dt.date.fromisoformat(day))


def held(*numbers: int) -> dict[int, SimpleNamespace]:
    """Sessions held on their planned dates."""
    plan = make_plan()
    return {n: rec("held", plan.sessions[n - 1].date.isoformat()) for n in numbers}


def due(
    today: str, record: dict[int, SimpleNamespace] | None = None, done: list[Assessment] | None = None
) -> list[str]:
    """What pair p1 is due on `today`, as "kind [session|months] [side] date"."""
    record = record or {}
    facts = PairFacts(
        id="p1",
        mentor="Priya Shah",
        mentee="Robert Klein",
        cohort=None,
        sessions_planned=4,
        cadence="biweekly",
        start=START,
        goals_total=2,
        records=[(i, n, r.status, r.date) for i, (n, r) in enumerate(sorted(record.items()))],
        assessments=done or [],
    )
    day = dt.date.fromisoformat(today)
    items = briefings_due(make_plan(), record, day) + assessments_due(facts, day)
    return [" ".join(str(x) for x in (i.kind, i.session or i.months, i.side, i.date.isoformat()) if x) for i in items]


def filled(side: str, kind: str, on: str, months: int | None = None) -> Assessment:
    return Assessment(
        side=side,
        kind=kind,
        followup_months=months,
        assessed_on=dt.date.fromisoformat(on),
        comfort={"generative-ai": 3},
    )


BASELINE = ["baseline mentor 2026-01-05", "baseline mentee 2026-01-05"]


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        # The baseline is due from the first run before session 1 is held, for both sides.
        ("2026-01-05", BASELINE),
        ("2026-01-09", ["baseline mentor 2026-01-09", "baseline mentee 2026-01-09"]),  # three days ahead: no briefing
        ("2026-01-10", ["briefing 1 2026-01-12", "baseline mentor 2026-01-10", "baseline mentee 2026-01-10"]),
        ("2026-01-11", ["briefing 1 2026-01-12", "baseline mentor 2026-01-11", "baseline mentee 2026-01-11"]),
        ("2026-01-12", ["baseline mentor 2026-01-12", "baseline mentee 2026-01-12"]),  # the day itself: no briefing
    ],
)
def test_who_is_due_what_before_the_first_session(today: str, expected: list[str]) -> None:
    # The baseline's date is the day it is asked from (the start, or today when earlier).
    assert due(today) == expected


def test_briefings_follow_the_record() -> None:
    everyone_in = [filled("mentor", "baseline", "2026-01-05"), filled("mentee", "baseline", "2026-01-06")]
    assert due("2026-01-10", done=everyone_in) == ["briefing 1 2026-01-12"]  # baselines filled in: not asked
    assert due("2026-01-23", held(1)) == []  # three days ahead of session 2
    assert due("2026-01-24", held(1)) == ["briefing 2 2026-01-26"]
    assert due("2026-01-24", {**held(1), 2: rec("cancelled", "2026-01-20")}) == []  # cancelled: no briefing
    moved = {**held(1, 2), 3: rec("moved", "2026-02-20")}  # from 9 to 20 February
    assert due("2026-02-07", moved) == []
    assert due("2026-02-18", moved) == ["briefing 3 2026-02-20"]
    assert due("2026-01-10", {1: rec("held", "2026-01-09")}) == []  # held early: no briefing, no baseline


def test_closing_and_follow_ups_after_the_last_held_session() -> None:
    record = held(1, 2, 3, 4)  # the last on 23 February 2026
    assert due("2026-02-22", held(1, 2, 3)) == ["briefing 4 2026-02-23"]
    assert due("2026-02-24", record) == ["closing mentor 2026-02-23", "closing mentee 2026-02-23"]
    closed = [filled("mentor", "closing", "2026-02-25"), filled("mentee", "closing", "2026-02-26")]
    assert due("2026-03-01", record, closed) == []
    assert due("2026-05-23", record, closed) == ["followup 3 mentor 2026-05-23", "followup 3 mentee 2026-05-23"]
    answered = [*closed, filled("mentee", "followup", "2026-05-25", 3)]
    assert due("2026-05-26", record, answered) == ["followup 3 mentor 2026-05-23"]
    # A clock moved two years on: every follow-up not answered is due.
    assert due("2028-02-23", record, answered) == [
        "followup 3 mentor 2026-05-23",
        "followup 12 mentor 2027-02-23",
        "followup 12 mentee 2027-02-23",
        "followup 24 mentor 2028-02-23",
        "followup 24 mentee 2028-02-23",
    ]


def test_keys_name_pair_what_and_side() -> None:
    briefing = DueItem("briefing", dt.date(2026, 1, 26), session=2)
    assert briefing.key("abc123", "mentor") == "briefing:abc123:2:mentor:2026-01-26"
    assert DueItem("followup", dt.date(2026, 5, 23), months=3).key("abc123", "mentee") == (
        "assessment:abc123:followup-3m:mentee"
    )


def test_briefing_carries_the_plans_words_in_text_and_html() -> None:
    plan = make_plan()
    s = plan.sessions[1]
    mail = briefing_mail("k", "Robert Klein", "robert@example.org", "mentee", plan, s, s.date)
    assert mail.subject == "Session 2 on Monday 26 January: Prompting step 2"
    for words in ("Prompting step 2", "write prompt number 2", "bring report draft 2", "Live prompting demo"):
        assert words in mail.text
        assert words in mail.html
    assert "with Priya Shah" in mail.text  # the other side of the pair
    assert "0:30 (15 min, Robert Klein) Budget walkthrough" in mail.text


def test_html_escapes_plan_text_and_carries_no_tracking() -> None:
    plan = make_plan()
    s = plan.sessions[0].model_copy(update={"title": "<img src=http://x/t.gif> & more"})
    mail = briefing_mail("k", "Robert", "robert@example.org", "mentee", plan, s, s.date)
    assert "<img" not in mail.html
    assert "&lt;img src=http://x/t.gif&gt; &amp; more" in mail.html


def test_assessment_mail_names_the_goals_and_the_link() -> None:
    plan = make_plan()
    item = DueItem("closing", dt.date(2026, 2, 23), side="mentor")
    mail = assessment_mail("k", "Priya", "p@example.org", plan, item, START, dt.date(2026, 2, 23), "https://x.example")
    assert mail.subject == "Your closing assessment for the mentoring with Robert Klein"
    assert "Goal 1: draft board reports with AI" in mail.text
    assert '<a href="https://x.example">' in mail.html
    assert "Your last session with Robert Klein was on 23 February 2026" in mail.text
    baseline = DueItem("baseline", dt.date(2026, 1, 5), side="mentee")
    first = assessment_mail("k", "Robert", "r@example.org", plan, baseline, START, None)
    assert first.subject == "Before session 1: your baseline assessment (by Monday 12 January 2026)"
    assert "with Priya Shah on Monday 12 January 2026" in first.text
    assert "ask your program lead for the form" in first.text and "<a " not in first.html


def test_message_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_MAIL_FROM", "Program Office <mentoring@example.org>")
    mail = Mail("k", "Zoë O'Brien", "zoe@example.org", "Session 1\r\nBcc: evil@example.org", "plain", "<p>html</p>")
    raw = build_message(mail, sender_from_env(), dt.datetime(2026, 1, 10, 8, 0, tzinfo=dt.UTC)).as_bytes()
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["To"].addresses[0].display_name == "Zoë O'Brien"
    assert msg["To"].addresses[0].addr_spec == "zoe@example.org"
    assert msg["From"].addresses[0].addr_spec == "mentoring@example.org"
    assert msg["Bcc"] is None and msg["Subject"] == "Session 1 Bcc: evil@example.org"
    assert msg["Date"] == "Sat, 10 Jan 2026 08:00:00 +0000"
    assert msg["Message-ID"].endswith("@example.org>")
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]


def test_default_sender(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COACH_MAIL_FROM", raising=False)
    assert str(sender_from_env()) == "Mentor Coach <mentor-coach@localhost>"
    monkeypatch.setenv("COACH_MAIL_FROM", "not an address")
    with pytest.raises(InputError, match="COACH_MAIL_FROM"):
        sender_from_env()


@pytest.mark.parametrize(
    ("url", "scheme", "host", "port", "user", "password"),
    [
        ("smtp://127.0.0.1:8025", "smtp", "127.0.0.1", 8025, None, None),
        ("smtp://mail.example.org", "smtp", "mail.example.org", 25, None, None),
        ("smtps://me%40x.org:p%3Ass@mail.example.org:465", "smtps", "mail.example.org", 465, "me@x.org", "p:ss"),
        ("smtp+starttls://me:pw@mail.example.org", "smtp+starttls", "mail.example.org", 587, "me", "pw"),
    ],
)
def test_smtp_urls(url: str, scheme: str, host: str, port: int, user: str | None, password: str | None) -> None:
    server = parse_smtp_url(url)
    assert (server.scheme, server.host, server.port, server.username, server.password) == (
        scheme,
        host,
        port,
        user,
        password,
    )
    assert "pw" not in server.safe_url() and "p:ss" not in server.safe_url() and "pw" not in repr(server)


@pytest.mark.parametrize(
    "url", ["http://mail.example.org", "smtp://", "smtp://host:notaport", "smtp://u:p@host", "smtp://host/path"]
)
def test_bad_smtp_urls_name_the_setting(url: str) -> None:
    with pytest.raises(InputError, match="COACH_SMTP_URL"):
        parse_smtp_url(url)
