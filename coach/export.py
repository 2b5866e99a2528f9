"""Render plans and cards for people: Markdown, JSON, calendar and Word."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from coach.models import Card, Pair, Plan, Session, SessionDocument


def to_json(plan: Plan) -> str:
    """The plan as SPEC.md section 3 JSON (plus provenance fields)."""
    return json.dumps(plan.to_json_dict(), indent=2, ensure_ascii=False) + "\n"


def _who(plan: Plan, lead: str) -> str:
    return {"mentor": plan.mentor.name, "mentee": plan.mentee.name}.get(lead, "Both")


def _asks(plan: Plan, asked_by: str) -> str:
    """Who asks a prompt, as a label that agrees with its subject ("Priya asks", "Both ask")."""
    return "Both ask" if asked_by == "both" else f"{_who(plan, asked_by)} asks"


def _clock(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


def _md_escape(text: str) -> str:
    """Keep table cells on one line and stop stray pipes from breaking the table."""
    return text.replace("|", "\\|").replace("\n", " ")


def uncovered_advice(goals: list[str]) -> str:
    """What to do about goals no card serves (shown wherever the plan is shown)."""
    which = "this goal" if len(goals) == 1 else "these goals"
    return (
        f"No card in the knowledge base teaches {which}, so the plan does not claim to cover {'it' if len(goals) == 1 else 'them'}. "
        "Add a card on it (`coach kb validate --kb DIR`, then `--kb DIR`), or reword the goal in terms of "
        "AI, collaboration tools, social media, digital workflow, data or security."
    )


def session_to_markdown(plan: Plan, s: Session) -> str:
    """One session as a printable Markdown section."""
    lines = [f"## Session {s.number} - {s.title}", ""]
    lines.append(f"**{s.date.strftime('%A %d %B %Y')}** - {s.minutes} minutes")
    lines.append("")
    # Titles only: the card ids are listed under Sources, not in what people read.
    lines.append("**Topics:** " + "; ".join(t.title for t in s.topics))
    lines.append("")
    lines.append("### Objectives")
    lines += [f"- {o}" for o in s.objectives]
    if s.pre_work:
        lines += ["", "### Before the session"]
        lines += [f"- [ ] {p}" for p in s.pre_work]
    lines += ["", "### Agenda", "", "| Time | Minutes | Activity | Leads |", "| --- | ---: | --- | --- |"]
    t = 0
    for a in s.agenda:
        lines.append(f"| {_clock(t)} | {a.minutes} | {_md_escape(a.activity)} | {_who(plan, a.lead)} |")
        t += a.minutes
    lines += ["", "### Discussion prompts"]
    lines += [f"- **{_asks(plan, p.asked_by)}:** {p.text}" for p in s.discussion_prompts]
    lines += ["", "### Reflection"]
    lines += [f"- {r}" for r in s.reflection]
    if s.documents:
        lines += ["", "*Your organisation's documents:* " + "; ".join(_document(d) for d in s.documents)]
    lines += ["", "*Sources:* " + ", ".join(f"`{c.topic_id}` ({c.source})" for c in s.citations), ""]
    return "\n".join(lines)


def to_markdown(plan: Plan) -> str:
    """The whole curriculum as a document an HR team can print and hand out."""
    s0 = plan.sessions[0] if plan.sessions else None
    lines = [
        f"# Reverse-mentoring plan: {plan.mentee.name} and {plan.mentor.name}",
        "",
        f"- **Mentor (teaches digital skills):** {plan.mentor.name}, {plan.mentor.role}",
        f"- **Mentee (senior leader, shares strategy and leadership context):** {plan.mentee.name}, {plan.mentee.role}",
    ]
    if s0:
        end = plan.sessions[-1].date
        lines.append(
            f"- **Program:** {len(plan.sessions)} sessions of {s0.minutes} minutes, "
            f"{s0.date.strftime('%d %b %Y')} to {end.strftime('%d %b %Y')}"
        )
    engine = plan.generated_by
    lines.append(f"- **Prepared by:** Mentor Coach ({engine.engine}: {engine.model})")
    if plan.goals:
        lines += ["", "## Goals"]
        lines += [f"{i + 1}. {g}" for i, g in enumerate(plan.goals)]
    if plan.uncovered_goals:
        lines += ["", "## Not covered by the knowledge base", ""]
        lines += [f"- {g}" for g in plan.uncovered_goals]
        lines += ["", uncovered_advice(plan.uncovered_goals)]
    lines += ["", "## Ground rules"]
    lines += [f"- {r}" for r in plan.ground_rules]
    lines += ["", "## How we will know it worked"]
    lines += [f"- {m}" for m in plan.success_measures]
    lines += ["", "## Overview", "", "| # | Date | Title | Main topics |", "| ---: | --- | --- | --- |"]
    for s in plan.sessions:
        topics = "; ".join(t.title for t in s.topics)  # card titles have commas of their own
        lines.append(f"| {s.number} | {s.date.isoformat()} | {_md_escape(s.title)} | {_md_escape(topics)} |")
    lines.append("")
    for s in plan.sessions:
        lines.append(session_to_markdown(plan, s))
    if plan.notes:
        lines += ["## Notes", *[f"- {n}" for n in plan.notes], ""]
    return "\n".join(lines)


def card_to_markdown(card: Card) -> str:
    """One card as readable text."""
    lines = [f"# {card.title}", "", f"`{card.id}` - {card.domain} - {card.level}", "", card.summary, ""]
    lines += ["## Objectives", *[f"- {o}" for o in card.objectives], ""]
    lines += ["## Key concepts", *[f"- **{k.term}:** {k.meaning}" for k in card.key_concepts], ""]
    lines += ["## Activities"]
    lines += [f"- {a.title} ({a.minutes} min, {a.format}, led by {a.lead}): {a.description}" for a in card.activities]
    lines += ["", "## Discussion prompts", *[f"- ({p.asked_by}) {p.text}" for p in card.discussion_prompts]]
    if card.pitfalls:
        lines += ["", "## Pitfalls", *[f"- {p}" for p in card.pitfalls]]
    if card.pre_work:
        lines += ["", "## Pre-work", *[f"- {p}" for p in card.pre_work]]
    if card.resources:
        lines += [
            "",
            "## Resources",
            *[f"- {r.name} ({r.kind}){': ' + r.note if r.note else ''}" for r in card.resources],
        ]
    if card.prerequisites:
        lines += ["", "Prerequisites: " + ", ".join(card.prerequisites)]
    lines += ["", f"Source: {card.source}", ""]
    from coach.knowledge import neutral

    return neutral("\n".join(lines))


# --------------------------------------------------------------------------- calendar and Word (program store)


def _session_description(plan: Plan, s: Session) -> str:
    """Plain-text body of a calendar event: topics, agenda, pre-work and prompts."""
    lines = ["Topics: " + "; ".join(t.title for t in s.topics), "", "Agenda:"]
    t = 0
    for a in s.agenda:
        lines.append(f"{_clock(t)} ({a.minutes} min, {_who(plan, a.lead)}) {a.activity}")
        t += a.minutes
    if s.pre_work:
        lines += ["", "Before the session:", *[f"- {p}" for p in s.pre_work]]
    if s.discussion_prompts:
        lines += [
            "",
            "Discussion prompts:",
            *[f"- {_asks(plan, p.asked_by)}: {p.text}" for p in s.discussion_prompts],
        ]
    lines += ["", "Sources: " + ", ".join(c.topic_id for c in s.citations)]
    return "\n".join(lines)


def session_dates(plan: Plan, record: dict[int, Any]) -> dict[int, tuple[dt.date, str]]:
    """Each session's (date, status) as it stands; cancelled sessions are left out.

    `record` maps a session number to its latest record (anything with `.status` and `.date`):
    held and moved sessions take the record's date, the rest the plan's.
    """
    out: dict[int, tuple[dt.date, str]] = {}
    for s in plan.sessions:
        rec = record.get(s.number)
        status = rec.status if rec is not None else "planned"
        if status == "cancelled":
            continue
        out[s.number] = (rec.date if rec is not None and status in ("held", "moved") else s.date, status)
    return out


def to_ics(
    plan: Plan,
    start_time: dt.time | None = None,
    timezone: str | None = None,
    emails: dict[str, str | None] | None = None,
    record: dict[int, Any] | None = None,
) -> bytes:
    """The plan as an iCalendar file: one event per session with the agenda in the description.

    Args:
        plan: The plan to export.
        start_time: Local start time of every session; without it each session is an all-day event
            on its date (the plan fixes the dates, not the hour).
        timezone: IANA zone of `start_time` (SPEC.md section 2); floating local time without it.
        emails: `{"mentor": ..., "mentee": ...}` addresses; each given one becomes an attendee.
        record: The latest logged record per session number (anything with `.status` and `.date`,
            `Store.session_status`): a moved or held session is on its logged date, a cancelled one
            is a cancelled event (same UID, so a calendar that imported the plan cancels it).
    """
    import hashlib

    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//Mentor Coach//mentor-coach//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"Reverse mentoring: {plan.mentee.name} and {plan.mentor.name}")
    stamp = dt.datetime.now(dt.UTC).replace(microsecond=0)
    # A stable UID per pair and session number: importing a revised plan updates the events.
    pair_key = hashlib.sha1(f"{plan.mentor.name}|{plan.mentee.name}".encode()).hexdigest()[:12]
    total = len(plan.sessions)
    dates = session_dates(plan, record or {})
    for s in plan.sessions:
        cancelled = s.number not in dates
        day = dates[s.number][0] if not cancelled else s.date
        ev = Event()
        ev.add("uid", f"{pair_key}-session-{s.number}@mentor-coach")
        ev.add("dtstamp", stamp)
        ev.add("summary", f"{'Cancelled: ' if cancelled else ''}Reverse mentoring {s.number}/{total}: {s.title}")
        if cancelled:
            ev.add("status", "CANCELLED")
        if start_time is None:
            ev.add("dtstart", day)
            ev.add("dtend", day + dt.timedelta(days=1))
            ev.add("transp", "TRANSPARENT")
        else:
            zone = None
            if timezone:
                from zoneinfo import ZoneInfo

                zone = ZoneInfo(timezone)
            begin = dt.datetime.combine(day, start_time, tzinfo=zone)
            ev.add("dtstart", begin)
            ev.add("dtend", begin + dt.timedelta(minutes=s.minutes))
        for side, person in (("mentor", plan.mentor), ("mentee", plan.mentee)):
            address = (emails or {}).get(side)
            if address:
                from icalendar import vCalAddress

                who = vCalAddress(f"mailto:{address}")
                who.params["cn"] = person.name
                who.params["role"] = "REQ-PARTICIPANT"
                ev.add("attendee", who, encode=False)
        ev.add(
            "description",
            f"{s.minutes} minutes, {plan.mentor.name} and {plan.mentee.name}\n\n" + _session_description(plan, s),
        )
        ev.add("categories", ["Reverse mentoring"])
        cal.add_component(ev)
    return bytes(cal.to_ical())


def to_docx(plan: Plan) -> bytes:
    """The plan as an editable Word document (headings, bullet lists and agenda tables)."""
    import io

    from docx import Document
    from docx.shared import Pt

    doc = Document()
    doc.core_properties.title = f"Reverse-mentoring plan: {plan.mentee.name} and {plan.mentor.name}"
    doc.core_properties.author = "Mentor Coach"
    doc.add_heading(f"Reverse-mentoring plan: {plan.mentee.name} and {plan.mentor.name}", level=0)
    info = doc.add_paragraph()
    info.add_run("Mentor (teaches digital skills): ").bold = True
    info.add_run(f"{plan.mentor.name}, {plan.mentor.role}")
    info = doc.add_paragraph()
    info.add_run("Mentee (senior leader, shares strategy and leadership context): ").bold = True
    info.add_run(f"{plan.mentee.name}, {plan.mentee.role}")
    if plan.sessions:
        s0, end = plan.sessions[0], plan.sessions[-1]
        doc.add_paragraph(
            f"{len(plan.sessions)} sessions of {s0.minutes} minutes, "
            f"{s0.date.strftime('%d %b %Y')} to {end.date.strftime('%d %b %Y')}. "
            f"Prepared by Mentor Coach ({plan.generated_by.engine}: {plan.generated_by.model})."
        )

    def bullets(items: list[str], style: str = "List Bullet") -> None:
        for item in items:
            doc.add_paragraph(item, style=style)

    if plan.goals:
        doc.add_heading("Goals", level=1)
        bullets(plan.goals, "List Number")
    doc.add_heading("Ground rules", level=1)
    bullets(plan.ground_rules)
    doc.add_heading("How we will know it worked", level=1)
    bullets(plan.success_measures)

    doc.add_heading("Overview", level=1)
    table = doc.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("#", "Date", "Title", "Main topics"), strict=True):
        cell.text = text
    for s in plan.sessions:
        row = table.add_row().cells
        row[0].text = str(s.number)
        row[1].text = s.date.isoformat()
        row[2].text = s.title
        row[3].text = "; ".join(t.title for t in s.topics)

    for s in plan.sessions:
        doc.add_heading(f"Session {s.number} - {s.title}", level=1)
        doc.add_paragraph(f"{s.date.strftime('%A %d %B %Y')} - {s.minutes} minutes")
        doc.add_paragraph("Topics: " + "; ".join(t.title for t in s.topics))
        doc.add_heading("Objectives", level=2)
        bullets(s.objectives)
        if s.pre_work:
            doc.add_heading("Before the session", level=2)
            bullets(s.pre_work)
        doc.add_heading("Agenda", level=2)
        agenda = doc.add_table(rows=1, cols=4)
        agenda.style = "Table Grid"
        for cell, text in zip(agenda.rows[0].cells, ("Time", "Minutes", "Activity", "Leads"), strict=True):
            cell.text = text
        t = 0
        for a in s.agenda:
            row = agenda.add_row().cells
            row[0].text = _clock(t)
            row[1].text = str(a.minutes)
            row[2].text = a.activity
            row[3].text = _who(plan, a.lead)
            t += a.minutes
        doc.add_heading("Discussion prompts", level=2)
        for p in s.discussion_prompts:
            para = doc.add_paragraph(style="List Bullet")
            para.add_run(f"{_who(plan, p.asked_by)} asks: ").bold = True
            para.add_run(p.text)
        doc.add_heading("Reflection", level=2)
        bullets(s.reflection)
        src = doc.add_paragraph("Sources: " + ", ".join(f"{c.topic_id} ({c.source})" for c in s.citations))
        for run in src.runs:
            run.font.size = Pt(8)
    if plan.notes:
        doc.add_heading("Notes", level=1)
        bullets(plan.notes)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def pair_ics(plan: Plan, pair: Pair) -> bytes:
    """The plan's calendar with the pair file's time, zone and email addresses (SPEC.md section 2)."""
    prog = pair.program
    emails = {"mentor": pair.mentor.email, "mentee": pair.mentee.email}
    return to_ics(plan, prog.time, prog.timezone if prog.time else None, emails)


def model_share(plan: Plan) -> str | None:
    """Which sessions a model did not write, or why none of it was used; None when the model wrote it all."""
    by = plan.generated_by
    if by.engine == "offline":
        return None
    if plan.fallback_reason:
        return f"the model's text was not used: {plan.fallback_reason}"
    if by.sessions is None or len(by.sessions) >= len(plan.sessions):
        return None
    kept = [s.number for s in plan.sessions if s.number not in set(by.sessions)]
    which = ", ".join(map(str, kept))
    return (
        f"{by.model} wrote {len(by.sessions)} of {len(plan.sessions)} sessions; "
        f"session{'s' if len(kept) > 1 else ''} {which} keep{'' if len(kept) > 1 else 's'} "
        "the offline planner's text (the notes say why)"
    )


def plan_warnings(
    plan: Plan, pair: Pair, today: dt.date | None = None, start_field: str = "program.start in the pair file"
) -> list[str]:
    """What the people should know before using the plan: goals no card serves, a start in the past.

    `start_field`: where the user sets the start date, in their words (the app names its form field).
    """
    out = []
    if plan.uncovered_goals:
        goals = "; ".join(f"“{g}”" for g in plan.uncovered_goals)
        out.append(
            f"not covered by the knowledge base, so not in the plan: {goals}. {uncovered_advice(plan.uncovered_goals)}"
        )
    share = model_share(plan)
    if share:
        out.append(share)
    today = today or dt.date.today()
    if pair.program.start < today:
        out.append(
            f"the program starts on {pair.program.start:%a %d %b %Y}, which is in the past; "
            f"set {start_field} to the date of the first session"
        )
    return out


def _document(d: SessionDocument) -> str:
    """A document a session draws on, as people read it: title, where in it, citation."""
    where = f", {d.locator}" if d.locator else ""
    return f"{d.title}{where} [doc:{d.doc_id}]"
