"""Render plans and cards for people: Markdown, JSON, calendar and Word."""

from __future__ import annotations

import json

from coach.models import Card, Plan, Session


def to_json(plan: Plan) -> str:
    """The plan as SPEC.md section 3 JSON (plus provenance fields)."""
    return json.dumps(plan.to_json_dict(), indent=2, ensure_ascii=False) + "\n"


def _who(plan: Plan, lead: str) -> str:
    return {"mentor": plan.mentor.name, "mentee": plan.mentee.name}.get(lead, "Both")


def _clock(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


def _md_escape(text: str) -> str:
    """Keep table cells on one line and stop stray pipes from breaking the table."""
    return text.replace("|", "\\|").replace("\n", " ")


def session_to_markdown(plan: Plan, s: Session) -> str:
    """One session as a printable Markdown section."""
    lines = [f"## Session {s.number} - {s.title}", ""]
    lines.append(f"**{s.date.strftime('%A %d %B %Y')}** - {s.minutes} minutes")
    lines.append("")
    lines.append("**Topics:** " + "; ".join(f"{t.title} [{t.id}]" for t in s.topics))
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
    lines += [f"- **{_who(plan, p.asked_by)} asks:** {p.text}" for p in s.discussion_prompts]
    lines += ["", "### Reflection"]
    lines += [f"- {r}" for r in s.reflection]
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
    lines += ["", "## Ground rules"]
    lines += [f"- {r}" for r in plan.ground_rules]
    lines += ["", "## How we will know it worked"]
    lines += [f"- {m}" for m in plan.success_measures]
    lines += ["", "## Overview", "", "| # | Date | Title | Main topics |", "| ---: | --- | --- | --- |"]
    for s in plan.sessions:
        topics = ", ".join(t.title for t in s.topics)
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
    return "\n".join(lines)
