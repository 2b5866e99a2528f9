"""Reminders by e-mail: each participant's session briefing two days ahead and the assessments that fall due.

Who is due what comes from the pair's latest plan, its session record and its assessments:

- a briefing for each session neither held nor cancelled, one or two days before its date (a
  moved session at its new date): the plan's own words (title, objectives, what to prepare,
  agenda, questions), to both sides (`briefings_due`);
- the assessments a side has not filled in yet, as the report counts them
  (`coach.outcomes.due_assessments`): the baseline until session 1 is held, the closing one once
  every planned session is held or cancelled, follow-ups 3, 12 and 24 months after the last held
  session (`assessments_due`).

Every message has a key (`briefing:PAIR:N:SIDE:DATE`, `assessment:PAIR:SLOT:SIDE`) recorded in
`reminders_sent` only after the SMTP server accepted it, so no message goes out twice and one the
server never took goes out on the next run.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.export import _asks, _clock, _who, session_dates
from coach.mail import Mail

if TYPE_CHECKING:
    from email.headerregistry import Address

    from coach.mail import SmtpServer
    from coach.metrics import PairFacts
    from coach.models import Plan, Session

#: A session's briefing goes out this many days ahead (or one day, when a run was missed).
BRIEFING_DAYS = 2
HELD = "held"
SIDES = ("mentor", "mentee")


@dataclass(frozen=True)
class DueItem:
    """One thing due on a date: a session's briefing (to both sides), or one side's assessment."""

    #: "briefing", "baseline", "closing" or "followup".
    kind: str
    #: The session's date (briefing) or the date the assessment fell due.
    date: dt.date
    session: int | None = None
    months: int | None = None
    #: The side an assessment is asked of; None for a briefing (both sides).
    side: str | None = None

    @property
    def slot(self) -> str:
        """The assessment it asks for, as the assessments module names it (baseline, closing, followup-3m ...)."""
        return f"followup-{self.months}m" if self.kind == "followup" else self.kind

    def key(self, pair_id: str, side: str) -> str:
        """The `reminders_sent` key of this item for one side of one pair."""
        if self.kind == "briefing":
            return f"briefing:{pair_id}:{self.session}:{side}:{self.date.isoformat()}"
        return f"assessment:{pair_id}:{self.slot}:{side}"


def briefings_due(plan: Plan, record: dict[int, Any], today: dt.date) -> list[DueItem]:
    """Briefings due on `today`: sessions not held or cancelled, one or two days ahead."""
    return [
        DueItem("briefing", day, session=number)
        for number, (day, status) in sorted(session_dates(plan, record).items())
        if status != HELD and 0 < (day - today).days <= BRIEFING_DAYS
    ]


def assessments_due(facts: PairFacts, today: dt.date) -> list[DueItem]:
    """Assessments due on `today`, one per side not yet filled in (`coach.outcomes.due_assessments`)."""
    from coach.outcomes import due_assessments

    out = []
    for slot, side, since in due_assessments(facts, list(facts.assessments), today):
        kind, _, rest = slot.partition("-")
        out.append(DueItem(kind, since, months=int(rest.rstrip("m")) if rest else None, side=side))
    return out


def last_held(record: dict[int, Any]) -> dt.date | None:
    """The date of the last held session, if any."""
    held = [r.date for r in record.values() if r.status == HELD]
    return max(held) if held else None


# --------------------------------------------------------------------------- the messages


def _render(greeting: str, intro: list[str], sections: list[tuple[str, list[str]]], link: str) -> tuple[str, str]:
    """(plain text, HTML) of one message: a greeting, paragraphs, titled lists and an optional link."""
    foot = "You receive this because you take part in a reverse-mentoring pair. Mentor Coach sends it once."
    text = [greeting, "", *[p + "\n" for p in intro]]
    body = [f"<p>{html.escape(greeting)}</p>", *[f"<p>{html.escape(p)}</p>" for p in intro]]
    for title, items in sections:
        if not items:
            continue
        text += [title, *[f"- {i}" for i in items], ""]
        body.append(f"<h3>{html.escape(title)}</h3>")
        body.append("<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>")
    if link:
        text += [f"Open Mentor Coach: {link}", ""]
        body.append(f'<p>Open Mentor Coach: <a href="{html.escape(link, quote=True)}">{html.escape(link)}</a></p>')
    text += ["-- ", foot, ""]  # the signature separator mail readers know
    body.append(f'<p style="color:#666;font-size:small">{html.escape(foot)}</p>')
    page = '<!DOCTYPE html>\n<html><body style="font-family:sans-serif;line-height:1.4">\n'
    return "\n".join(text), page + "\n".join(body) + "\n</body></html>\n"


def _partner(plan: Plan, side: str) -> str:
    return plan.mentee.name if side == "mentor" else plan.mentor.name


def briefing_mail(
    key: str, name: str, email: str, side: str, plan: Plan, s: Session, day: dt.date, link: str = ""
) -> Mail:
    """The briefing for session `s` on `day`: the plan's title, objectives, what to prepare, agenda and questions."""
    agenda, clock = [], 0
    for a in s.agenda:
        agenda.append(f"{_clock(clock)} ({a.minutes} min, {_who(plan, a.lead)}) {a.activity}")
        clock += a.minutes
    intro = [
        f"Session {s.number} of your mentoring with {_partner(plan, side)} is on {day:%A %d %B %Y} "
        f"({s.minutes} minutes): {s.title}."
    ]
    sections = [
        ("Topics", [t.title for t in s.topics]),
        ("Objectives", list(s.objectives)),
        ("What to prepare", list(s.pre_work)),
        ("Agenda", agenda),
        ("Questions to discuss", [f"{_asks(plan, p.asked_by)}: {p.text}" for p in s.discussion_prompts]),
    ]
    text, page = _render(f"Hello {name},", intro, sections, link)
    subject = f"Session {s.number} on {day:%A %d %B}: {s.title}"
    return Mail(key, name, email, subject, text, page)


_ASK = {
    "baseline": (
        "Before your first session with {partner} on {date}, please rate where you stand today, so you "
        "can both see at the end what changed: your comfort in each area from 1 (I don't know how to do "
        "it) to 5 (I can do it with confidence and guide others)."
    ),
    "closing": (
        "Your last session with {partner} was on {last}. Please rate your comfort in each area again "
        "(1 to 5), how far you got with each goal (-2 much less than expected to +2 much more), and "
        "whether you would recommend the program (0 to 10)."
    ),
    "followup": (
        "It is {months} months since your last session with {partner} on {last}. Please rate your comfort "
        "in each area again, and tell us whether you have used what you learnt at work since, with an example."
    ),
}
_SUBJECT = {
    "baseline": "Before session 1: your baseline assessment (by {date})",
    "closing": "Your closing assessment for the mentoring with {partner}",
    "followup": "{months} months on: a short follow-up on your mentoring with {partner}",
}


def assessment_mail(
    key: str, name: str, email: str, plan: Plan, item: DueItem, first: dt.date, last: dt.date | None, link: str = ""
) -> Mail:
    """The message asking `item.side` for the assessment `item`, with the goals it rates.

    `first` is session 1's date, `last` the last held session's (None before any).
    """
    words = {
        "partner": _partner(plan, item.side or "mentee"),
        "date": f"{first:%A %d %B %Y}",
        "last": f"{last or first:%d %B %Y}",
        "months": item.months,
    }
    intro = [_ASK[item.kind].format(**words)]
    intro.append(
        "Fill it in under My pairs in the Mentor Coach app"
        + (" (link below)." if link else ", or ask your program lead for the form.")
    )
    goals = [f"Goal {i}: {g}" for i, g in enumerate(plan.goals, start=1)] if item.kind != "followup" else []
    text, page = _render(f"Hello {name},", intro, [("The goals you rate", goals)], link)
    return Mail(key, name, email, _SUBJECT[item.kind].format(**words), text, page)


# --------------------------------------------------------------------------- the run


@dataclass
class RemindResult:
    """What a run did: messages sent (or written), already sent before, refused, and pairs skipped."""

    sent: list[Mail] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    already_sent: int = 0
    refused: list[tuple[Mail, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def due_mail(store: Any, today: dt.date, link: str = "") -> tuple[list[Mail], list[str]]:
    """Every message due on `today` to the accounts linked to pairs (sent or not), and the pairs skipped."""
    people: dict[str, list[tuple[str, str, str]]] = {}
    for account in store.accounts():
        for pair_id, side in account.pairs.items():
            people.setdefault(pair_id, []).append((account.email, account.name, side))
    if not people:
        return [], []
    facts = {f.id: f for f in store.report_facts()}
    mails: list[Mail] = []
    skipped: list[str] = []
    for pair_id in sorted(people):
        version = store.get_plan(pair_id)
        if version is None:
            skipped.append(f"pair {pair_id} has no plan yet")
            continue
        plan = version.plan
        record = store.session_status(pair_id)
        items = briefings_due(plan, record, today) + assessments_due(facts[pair_id], today)
        if not items:
            continue
        by_number = {s.number: s for s in plan.sessions}
        dates = session_dates(plan, record)
        first = dates[min(dates)][0] if dates else plan.sessions[0].date
        for email, name, side in sorted(people[pair_id], key=lambda p: (p[2], p[0])):
            for item in items:
                key = item.key(pair_id, side)
                if item.kind == "briefing" and item.session is not None:
                    mails.append(briefing_mail(key, name, email, side, plan, by_number[item.session], item.date, link))
                elif item.side == side:
                    mails.append(assessment_mail(key, name, email, plan, item, first, last_held(record), link))
    return mails, skipped


def sent_keys(store: Any, keys: list[str]) -> set[str]:
    """Which of `keys` are recorded in `reminders_sent`."""
    from sqlalchemy import select

    from coach.store.reminders import ReminderSentRow

    def run(s: Any) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            found |= set(s.scalars(select(ReminderSentRow.key).where(ReminderSentRow.key.in_(chunk))))
        return found

    return set(store.read(run)) if keys else set()


def record_sent(store: Any, mail: Mail, at: dt.datetime | None = None) -> None:
    """Record that the server accepted `mail` (a key already recorded is left as it is)."""
    from sqlalchemy import select

    from coach.store.reminders import ReminderSentRow
    from coach.store.schema import utcnow

    def run(s: Any) -> None:
        if s.scalar(select(ReminderSentRow.id).where(ReminderSentRow.key == mail.key)) is None:
            s.add(ReminderSentRow(key=mail.key, email=mail.to_email, sent_at=at or utcnow()))

    store.write(run)


def pending_mail(store: Any, today: dt.date, link: str = "") -> tuple[list[Mail], RemindResult]:
    """The messages due on `today` not sent yet, and a result holding the counts so far."""
    mails, skipped = due_mail(store, today, link)
    done = sent_keys(store, [m.key for m in mails])
    result = RemindResult(already_sent=sum(1 for m in mails if m.key in done), skipped=skipped)
    return [m for m in mails if m.key not in done], result


def eml_name(today: dt.date, mail: Mail) -> str:
    """The dry-run file name of a message: the date, then its key."""
    return f"{today.isoformat()}_{mail.key.replace(':', '_')}"


def write_reminders(store: Any, today: dt.date, folder: Path, sender: Address, link: str = "") -> RemindResult:
    """Dry run: write each message not sent yet as an `.eml` file in `folder`; nothing is sent or recorded."""
    from coach.mail import build_message, write_eml

    mails, result = pending_mail(store, today, link)
    for mail in mails:
        result.written.append(write_eml(folder, eml_name(today, mail), build_message(mail, sender)))
    return result


def send_reminders(
    store: Any,
    today: dt.date,
    server: SmtpServer,
    sender: Address,
    link: str = "",
    progress: Callable[[Mail], None] | None = None,
) -> RemindResult:
    """Send each message due on `today` and not sent yet, recording each one the server accepted.

    One run at a time (a program-wide lock). An unreachable server raises `MailUnreachable` before
    anything is recorded; a connection lost midway keeps the messages already accepted recorded.
    A message the server refuses is reported in the result and tried again on the next run.
    """
    from coach.mail import MailRefused, MailUnreachable, Outbox, build_message

    with store.writer_lock("remind", wait=60.0, what="another `coach remind`"):
        mails, result = pending_mail(store, today, link)
        if not mails:
            return result
        box = Outbox(server)
        try:
            box.connect()
        except MailUnreachable as exc:
            raise MailUnreachable(f"{exc}; nothing sent, {len(mails)} message(s) wait for the next run") from None
        with box:
            for mail in mails:
                try:
                    box.send(build_message(mail, sender))
                except MailRefused as exc:
                    result.refused.append((mail, str(exc)))
                    continue
                except MailUnreachable as exc:
                    left = len(mails) - len(result.sent) - len(result.refused)
                    raise MailUnreachable(
                        f"{exc}; {len(result.sent)} sent and recorded, {left} not sent (run again to send them)"
                    ) from None
                record_sent(store, mail)
                result.sent.append(mail)
                if progress is not None:
                    progress(mail)
    return result
