"""`coach remind` against a real SMTP server on loopback (aiosmtpd): each due message arrives exactly once.

Two stored pairs with plans and four participant accounts; on 10 January 2026 each person is due
the briefing for session 1 (12 January) and the baseline assessment, unless they filled it in.
"""

from __future__ import annotations

import datetime as dt
import email
import socket
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from support import require

from coach.cli import cli
from coach.config import load_settings
from coach.models import (
    AgendaItem,
    Citation,
    DiscussionPrompt,
    Mentee,
    Mentor,
    Pair,
    PersonRef,
    Plan,
    PlanTopic,
    Program,
    Session,
)

pytestmark = pytest.mark.integration

try:
    from aiosmtpd.controller import Controller as _Controller

    Controller: Any = _Controller
except ImportError:  # a dev dependency: required under `make test`, skipped elsewhere
    Controller = None

START = dt.date(2026, 1, 12)
TODAY = "2026-01-10"
PEOPLE = {
    # email: (name, pair letter, side)
    "priya@example.org": ("Priya Shah", "A", "mentor"),
    "robert@example.org": ("Robert Klein", "A", "mentee"),
    "sam@example.org": ("Sam Osei", "B", "mentor"),
    "helen@example.org": ("Helen Park", "B", "mentee"),
}


class Inbox:
    """An aiosmtpd handler keeping every message it accepted; `refuse` names recipients to turn away."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.refuse: set[str] = set()
        #: Answer the message after this many accepted with "421" (the server going away), once.
        self.drop_after: int | None = None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.drop_after is not None and len(self.messages) >= self.drop_after:
            self.drop_after = None
            return "421 4.3.2 shutting down"
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"

    def by_recipient(self) -> dict[str, list[EmailMessage]]:
        out: dict[str, list[EmailMessage]] = {}
        for rcpts, msg in self.messages:
            for r in rcpts:
                out.setdefault(r, []).append(msg)
        return out


def subject(msg: EmailMessage) -> str:
    """The Subject header; a subject folded whole onto its second line parses with a leading space in Python."""
    return str(msg["Subject"]).strip()


def part(msg: EmailMessage, subtype: str) -> str:
    """The text of the message's text/SUBTYPE part."""
    body = msg.get_body(preferencelist=(subtype,))
    assert body is not None, f"no text/{subtype} part"
    return str(body.get_content())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A loopback SMTP server that can be started (again) on a fixed port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self.controller: Any = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """A port for the SMTP server (not started yet), set as COACH_SMTP_URL."""
    require("aiosmtpd (pip install -e '.[dev]')", Controller is not None)
    server = Server(free_port())
    monkeypatch.setenv("COACH_SMTP_URL", f"smtp://127.0.0.1:{server.port}")
    monkeypatch.setenv("COACH_MAIL_FROM", "Mentoring Office <mentoring@example.org>")
    monkeypatch.delenv("COACH_PUBLIC_URL", raising=False)
    yield server
    server.stop()


def make_plan(pair: Pair, tag: str) -> Plan:
    sessions = [
        Session(
            number=i,
            date=pair.program.start + dt.timedelta(days=14 * (i - 1)),
            title=f"{tag} session {i} title",
            minutes=45,
            topics=[PlanTopic(id="genai-prompting-basics", title="Prompting basics", domain="generative-ai")],
            objectives=[f"{tag} objective {i}"],
            pre_work=[f"{tag} preparation {i}"],
            agenda=[
                AgendaItem(minutes=30, activity=f"{tag} demo {i}", lead="mentor"),
                AgendaItem(minutes=15, activity="Budget walkthrough", lead="mentee"),
            ],
            discussion_prompts=[DiscussionPrompt(text="What would you try first?", asked_by="mentee")],
            reflection=["what will you try?"],
            citations=[Citation(topic_id="genai-prompting-basics", source="kb/genai.yaml")],
        )
        for i in range(1, pair.program.sessions + 1)
    ]
    return Plan(
        mentor=PersonRef(name=pair.mentor.name, role=pair.mentor.role),
        mentee=PersonRef(name=pair.mentee.name, role=pair.mentee.role),
        ground_rules=["confidential"],
        success_measures=["80% held"],
        sessions=sessions,
        goals=list(pair.mentee.goals),
    )


@pytest.fixture
def program() -> Iterator[tuple[Any, dict[str, str]]]:
    """The store with pairs A and B (plans, accounts), a pair without a plan, and an admin; -> (store, ids)."""
    from coach.store import close_stores, open_store

    store = open_store(load_settings())
    ids: dict[str, str] = {}
    for letter, mentor, mentee in (("A", "Priya Shah", "Robert Klein"), ("B", "Sam Osei", "Helen Park")):
        pair = Pair(
            mentor=Mentor(name=mentor, role="Analyst"),
            mentee=Mentee(name=mentee, role="Director", goals=[f"goal of pair {letter}"]),
            program=Program(sessions=4, minutes=45, cadence="biweekly", start=START),
        )
        ids[letter] = store.add_pair(pair)
        store.save_plan(ids[letter], make_plan(pair, f"Pair {letter}"), "generated")
    for address, (name, letter, side) in PEOPLE.items():
        store.add_account(address, name, pair=ids[letter], side=side)
    store.add_account("admin@example.org", "Ada Admin", role="admin")
    no_plan = store.add_pair(
        Pair(
            mentor=Mentor(name="No Plan", role="Analyst"),
            mentee=Mentee(name="Yet Someone", role="Director", goals=["x"]),
            program=Program(sessions=2, minutes=45, cadence="weekly", start=START),
        )
    )
    store.add_account("noplan@example.org", "No Plan", pair=no_plan, side="mentor")
    yield store, ids
    close_stores()


def remind(*args: str) -> Any:
    return CliRunner().invoke(cli, ["remind", *args])


def recorded(store: Any) -> list[tuple[str, str]]:
    from sqlalchemy import select

    from coach.store.reminders import ReminderSentRow

    return store.read(lambda s: list(s.execute(select(ReminderSentRow.key, ReminderSentRow.email)).tuples()))


def check_arrivals(inbox: Inbox, expect_baseline: set[str]) -> None:
    """Each person got the session 1 briefing once, and the baseline once if due; nothing else."""
    got = inbox.by_recipient()
    assert set(got) == set(PEOPLE)
    for address, (name, letter, _side) in PEOPLE.items():
        subjects = sorted(subject(m) for m in got[address])
        expected = [f"Session 1 on Monday 12 January: Pair {letter} session 1 title"]
        if address in expect_baseline:
            expected.append("Before session 1: your baseline assessment (by Monday 12 January 2026)")
        assert subjects == sorted(expected), address
        for msg in got[address]:
            to = msg["To"].addresses
            assert [(a.display_name, a.addr_spec) for a in to] == [(name, address)]
            assert msg["From"].addresses[0].addr_spec == "mentoring@example.org"
            assert msg["Date"] and msg["Message-ID"]
            assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
        briefing = next(m for m in got[address] if subject(m).startswith("Session 1"))
        text = part(briefing, "plain")
        page = part(briefing, "html")
        for words in (f"Pair {letter} session 1 title", f"Pair {letter} objective 1", f"Pair {letter} preparation 1"):
            assert words in text and words in page
        assert "Monday 12 January 2026" in text
        other = f"Pair {'B' if letter == 'A' else 'A'}"
        assert other not in text  # no one gets the other pair's plan


def test_each_due_message_arrives_exactly_once_across_two_runs(smtp: Server, program: Any) -> None:
    from coach.assessments import AssessmentIn

    store, ids = program
    # Helen (mentee of B) has filled in her baseline: she is not asked again.
    baseline = AssessmentIn(
        side="mentee",
        kind="baseline",
        followup_months=None,
        assessed_on=dt.date(2026, 1, 8),
        comfort={"generative-ai": 2},
    )
    store.add_assessment(ids["B"], baseline, "helen@example.org")
    smtp.start()

    first = remind("--today", TODAY)
    assert first.exit_code == 0, first.output
    assert "7 message(s) sent" in first.stdout
    assert f"pair {store.list_pairs()[-1].id} has no plan yet" in first.stderr
    check_arrivals(smtp.inbox, expect_baseline={"priya@example.org", "robert@example.org", "sam@example.org"})
    assert len(recorded(store)) == 7

    second = remind("--today", TODAY)
    assert second.exit_code == 0, second.output
    assert "0 message(s) sent" in second.stdout and "7 message(s) due were sent before" in second.stdout
    assert len(smtp.inbox.messages) == 7
    check_arrivals(smtp.inbox, expect_baseline={"priya@example.org", "robert@example.org", "sam@example.org"})

    # Two weeks on, session 2's briefing goes to all four, once.
    for _ in range(2):
        later = remind("--today", "2026-01-24")
        assert later.exit_code == 0, later.output
    session2 = [m for _, m in smtp.inbox.messages if subject(m).startswith("Session 2 on Monday 26 January")]
    assert sorted(a.addr_spec for m in session2 for a in m["To"].addresses) == sorted(PEOPLE)
    assert len(smtp.inbox.messages) == 11


def test_dry_run_writes_eml_files_and_sends_nothing(smtp: Server, program: Any, tmp_path: Path) -> None:
    store, _ids = program
    smtp.start()
    out = tmp_path / "outbox"
    result = remind("--today", TODAY, "--dry-run", str(out))
    assert result.exit_code == 0, result.output
    files = sorted(out.glob("*.eml"))
    assert len(files) == 8 and "none sent" in result.stdout
    assert {f.stat().st_mode & 0o777 for f in files} == {0o600}  # they name people
    assert smtp.inbox.messages == [] and recorded(store) == []
    msgs = [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    assert sorted(m["To"].addresses[0].addr_spec for m in msgs) == sorted([*PEOPLE, *PEOPLE])
    assert any("Pair A session 1 title" in subject(m) for m in msgs)

    # The dry run recorded nothing: the real run sends all eight.
    sent = remind("--today", TODAY)
    assert sent.exit_code == 0, sent.output
    check_arrivals(smtp.inbox, expect_baseline=set(PEOPLE))


def test_unreachable_server_is_a_clear_error_that_loses_nothing(smtp: Server, program: Any) -> None:
    store, _ids = program
    down = remind("--today", TODAY)  # nothing listens on the port yet
    assert down.exit_code == 1
    assert f"cannot reach the mail server smtp://127.0.0.1:{smtp.port}" in down.stderr
    assert "nothing sent, 8 message(s) wait for the next run" in down.stderr
    assert "Traceback" not in down.output
    assert recorded(store) == []

    smtp.start()
    up = remind("--today", TODAY)
    assert up.exit_code == 0, up.output
    check_arrivals(smtp.inbox, expect_baseline=set(PEOPLE))
    assert len(recorded(store)) == 8


def test_a_server_lost_midway_keeps_what_was_sent_and_sends_the_rest_later(smtp: Server, program: Any) -> None:
    store, _ids = program
    smtp.inbox.drop_after = 3
    smtp.start()
    first = remind("--today", TODAY)
    assert first.exit_code == 1
    assert f"the mail server smtp://127.0.0.1:{smtp.port} closed the connection: 421" in first.stderr
    assert "3 sent and recorded, 5 not sent (run again to send them)" in first.stderr
    assert first.stdout.count("sent to ") == 3
    assert len(smtp.inbox.messages) == 3 and len(recorded(store)) == 3

    second = remind("--today", TODAY)
    assert second.exit_code == 0, second.output
    assert "5 message(s) sent" in second.stdout
    check_arrivals(smtp.inbox, expect_baseline=set(PEOPLE))


def test_a_refused_recipient_is_reported_and_sent_on_the_next_run(smtp: Server, program: Any) -> None:
    store, _ids = program
    smtp.inbox.refuse = {"sam@example.org"}
    smtp.start()
    first = remind("--today", TODAY)
    assert first.exit_code == 1
    assert "not sent to sam@example.org" in first.stderr and "550" in first.stderr
    assert "sam@example.org" not in smtp.inbox.by_recipient()
    assert len(recorded(store)) == 6

    smtp.inbox.refuse = set()
    second = remind("--today", TODAY)
    assert second.exit_code == 0, second.output
    check_arrivals(smtp.inbox, expect_baseline=set(PEOPLE))


def test_missing_server_setting_is_bad_input(smtp: Server, program: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COACH_SMTP_URL")
    result = remind("--today", TODAY)
    assert result.exit_code == 2 and "COACH_SMTP_URL" in result.stderr
    bad_date = remind("--today", "10/01/2026", "--dry-run", "x")
    assert bad_date.exit_code == 2 and "--today" in bad_date.stderr
