"""Who is due which reminder on a given date, the messages' words and headers, and the SMTP URL."""

from __future__ import annotations

import datetime as dt
import email
from email import policy
from types import SimpleNamespace

import pytest

from coach.errors import InputError
from coach.mail import Mail, build_message, parse_smtp_url, sender_from_env
from coach.models import AgendaItem, Citation, DiscussionPrompt, PersonRef, Plan, PlanTopic, Session
from coach.remind import DueItem, add_months, assessment_mail, briefing_mail, due_items

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


def due(today: str, record: dict[int, SimpleNamespace] | None = None) -> list[str]:
    items = due_items(make_plan(), record or {}, dt.date.fromisoformat(today))
    return [f"{i.kind} {i.session or i.months or ''}".strip() + f" {i.date.isoformat()}" for i in items]


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        ("2026-01-04", []),
        ("2026-01-05", ["baseline 2026-01-12"]),  # seven days before session 1
        ("2026-01-10", ["briefing 1 2026-01-12", "baseline 2026-01-12"]),  # two days ahead
        ("2026-01-11", ["briefing 1 2026-01-12", "baseline 2026-01-12"]),  # one day ahead (a missed run)
        ("2026-01-12", ["baseline 2026-01-12"]),  # the day itself: too late for a briefing
        ("2026-01-13", []),
        ("2026-01-23", []),  # three days ahead of session 2
        ("2026-01-24", ["briefing 2 2026-01-26"]),
        ("2026-02-23", []),  # the last session
        ("2026-02-24", ["closing 2026-02-24"]),  # the day after it
        ("2026-03-26", ["closing 2026-02-24"]),  # 30 days on
        ("2026-03-27", []),
        ("2026-05-23", ["followup 3 2026-05-23"]),
        ("2027-02-23", ["followup 12 2027-02-23"]),
        ("2028-03-24", ["followup 24 2028-02-23"]),
        ("2028-03-25", []),
    ],
)
def test_who_is_due_what_on_a_date(today: str, expected: list[str]) -> None:
    assert due(today) == expected


def test_the_record_moves_and_cancels_sessions() -> None:
    # Session 2 cancelled: no briefing for it.
    assert due("2026-01-24", {2: rec("cancelled", "2026-01-26")}) == []
    # Session 3 moved from 9 to 20 February: briefed before the new date, not the old one.
    moved = {3: rec("moved", "2026-02-20")}
    assert due("2026-02-07", moved) == []
    assert due("2026-02-18", moved) == ["briefing 3 2026-02-20"]
    # Session 1 held early: no briefing for the held session.
    assert due("2026-01-10", {1: rec("held", "2026-01-09")}) == []
    # The last session cancelled: the program ends with session 3, and the follow-ups count from it.
    last_off = {4: rec("cancelled", "2026-02-23")}
    assert due("2026-02-10", last_off) == ["closing 2026-02-10"]
    assert due("2026-05-09", last_off) == ["followup 3 2026-05-09"]
    # Session 4 moved a week later: the closing assessment moves with it.
    late = {4: rec("moved", "2026-03-02")}
    assert due("2026-02-24", late) == []
    assert due("2026-03-03", late) == ["closing 2026-03-03"]


def test_add_months_keeps_the_day_or_the_month_end() -> None:
    assert add_months(dt.date(2026, 2, 23), 3) == dt.date(2026, 5, 23)
    assert add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2026, 1, 31), 24) == dt.date(2028, 1, 31)


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
    item = DueItem("closing", dt.date(2026, 2, 24))
    mail = assessment_mail(
        "k", "Priya", "p@example.org", "mentor", plan, item, dt.date(2026, 2, 23), "https://coach.example.org"
    )
    assert "closing assessment" in mail.subject
    assert "Goal 1: draft board reports with AI" in mail.text
    assert '<a href="https://coach.example.org">' in mail.html
    assert "23 February 2026" in mail.text


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
