"""Plans, cards and chat answers as Markdown for the page, with every piece of untrusted text escaped."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ui.common import domain_label
from ui.safe import escape, escape_cell

if TYPE_CHECKING:
    from coach.knowledge import KnowledgeBase
    from coach.models import Card, Plan

_CITATION = re.compile(r"\[([a-z0-9]+(?:-[a-z0-9]+)+)\]")


def card_link(card_id: str) -> str:
    """A link that opens a card in the Knowledge tab (in a new browser tab)."""
    return f"[{card_id}](?card={card_id})"


def linkify_citations(escaped: str, kb: KnowledgeBase) -> str:
    """Turn `[card-id]` citations of known cards into links that open the card; others stay as text.

    Args:
        escaped: Text already passed through `ui.safe.escape`.
        kb: The knowledge base the ids must resolve in.
    """
    return _CITATION.sub(lambda m: card_link(m.group(1)) if kb.get(m.group(1)) else m.group(0), escaped)


def answer_markdown(text: str, kb: KnowledgeBase) -> str:
    """A chat answer (model or cards) made inert, with its citations as links."""
    return linkify_citations(escape(text), kb)


def plan_overview(plan: Plan) -> str:
    """Who, when, goals, ground rules and the session list."""
    out = [f"## Plan for {escape(plan.mentee.name)} and {escape(plan.mentor.name)}", ""]
    out.append(f"- **Senior leader (learns):** {escape(plan.mentee.name)}, {escape(plan.mentee.role)}")
    out.append(f"- **Junior mentor (teaches):** {escape(plan.mentor.name)}, {escape(plan.mentor.role)}")
    if plan.sessions:
        first, last = plan.sessions[0], plan.sessions[-1]
        out.append(
            f"- **Program:** {len(plan.sessions)} sessions of {first.minutes} minutes, "
            f"{first.date:%d %b %Y} to {last.date:%d %b %Y}"
        )
    by = plan.generated_by
    written = "offline, from the knowledge cards" if by.engine == "offline" else f"{escape(by.model)} ({by.engine})"
    if by.engine != "offline" and by.sessions is not None and not plan.fallback_reason:
        written += f", {len(by.sessions)} of {len(plan.sessions)} sessions (the rest keep the offline planner's text)"
        if len(by.sessions) == len(plan.sessions):
            written = f"{escape(by.model)} ({by.engine}), every session"
    out.append(f"- **Written by:** {written}")
    if plan.fallback_reason:
        out.append(f"- **Note:** the model's plan was not used ({escape(plan.fallback_reason)}).")
    if plan.goals:
        out += ["", "**Goals**", *[f"{i}. {escape(g)}" for i, g in enumerate(plan.goals, 1)]]
    out += ["", "**Ground rules**", *[f"- {escape(r)}" for r in plan.ground_rules]]
    out += ["", "**How you will know it worked**", *[f"- {escape(m)}" for m in plan.success_measures]]
    if plan.uncovered_goals:
        from coach.export import uncovered_advice

        out += ["", "**⚠ Not covered by the knowledge base**", *[f"- {escape(g)}" for g in plan.uncovered_goals]]
        out += ["", escape(uncovered_advice(plan.uncovered_goals))]
    out += ["", "| # | Date | Session | Main topics |", "| ---: | --- | --- | --- |"]
    for s in plan.sessions:
        topics = ", ".join(t.title for t in s.topics)
        out.append(f"| {s.number} | {s.date:%a %d %b %Y} | {escape_cell(s.title)} | {escape_cell(topics)} |")
    if plan.notes:
        out += ["", "**Changes made**", *[f"- {escape(n)}" for n in plan.notes]]
    return "\n".join(out)


def _who(plan: Plan, lead: str) -> str:
    return {"mentor": plan.mentor.name, "mentee": plan.mentee.name}.get(lead, "Both")


def session_markdown(plan: Plan, number: int) -> str:
    """One session: when, topics, objectives, pre-work, timed agenda, prompts, reflection, sources."""
    s = plan.sessions[number - 1]
    out = [f"**{s.date:%A %d %B %Y}**, {s.minutes} minutes", ""]
    out.append("**Topics:** " + "; ".join(f"{escape(t.title)} ({escape(domain_label(t.domain))})" for t in s.topics))
    out += ["", "**By the end of the session**", *[f"- {escape(o)}" for o in s.objectives]]
    if s.pre_work:
        out += ["", "**Before the session**", *[f"- {escape(p)}" for p in s.pre_work]]
    # Three columns, the time first and kept on one line ("0:19", "8 min"), so the agenda reads at 1280 px.
    out += ["", "**Agenda**", "", "| When | What happens | Who leads |", "| --- | --- | --- |"]
    clock = 0
    for a in s.agenda:
        out.append(
            f"| {clock // 60}:{clock % 60:02d}\u00a0({a.minutes}\u00a0min) | {escape_cell(a.activity)} | "
            f"{escape_cell(_who(plan, a.lead))} |"
        )
        clock += a.minutes
    if s.discussion_prompts:
        out += ["", "**Questions to discuss**"]
        out += [
            f"- *{'Both ask' if p.asked_by == 'both' else escape(_who(plan, p.asked_by)) + ' asks'}:* {escape(p.text)}"
            for p in s.discussion_prompts
        ]
    if s.reflection:
        out += ["", "**Afterwards, reflect**", *[f"- {escape(r)}" for r in s.reflection]]
    if s.citations:
        out += ["", "Sources: " + ", ".join(card_link(c.topic_id) for c in s.citations)]
    return "\n".join(out)


def plan_sessions(plan: Plan, only: set[int] | None = None) -> str:
    """Every session (or those numbered in `only`) as a heading and a section that opens on a click."""
    parts = []
    for s in plan.sessions:
        if only is not None and s.number not in only:
            continue
        body = session_markdown(plan, s.number)
        topics = "; ".join(escape(t.title) for t in s.topics if t.domain != "program-practice")
        parts.append(
            f"### Session {s.number}: {escape(s.title)}\n\n"
            f'<details class="plan-session"{" open" if s.number == 1 else ""}><summary>{s.date:%a %d %b %Y}, '
            f"{s.minutes} minutes: {topics} (agenda, questions and sources)</summary>\n\n{body}\n\n</details>"
        )
    return "\n\n".join(parts)


def card_markdown(card: Card) -> str:
    """A card as the Knowledge tab shows it."""
    out = [
        f"## {escape(card.title)}",
        "",
        f"`{card.id}` · {escape(domain_label(card.domain))} · {card.level}",
        "",
        escape(card.summary),
    ]
    out += ["", "**Objectives**", *[f"- {escape(o)}" for o in card.objectives]]
    out += [
        "",
        "**Key ideas in plain words**",
        *[f"- **{escape(k.term)}**: {escape(k.meaning)}" for k in card.key_concepts],
    ]
    out += ["", "**Activities**"]
    out += [
        f"- **{escape(a.title)}** ({a.minutes} min, {a.format}, led by {a.lead}): {escape(a.description)}"
        for a in card.activities
    ]
    out += [
        "",
        "**Questions to discuss**",
        *[f"- ({p.asked_by} asks) {escape(p.text)}" for p in card.discussion_prompts],
    ]
    if card.pitfalls:
        out += ["", "**Watch out for**", *[f"- {escape(p)}" for p in card.pitfalls]]
    if card.pre_work:
        out += ["", "**Before a session**", *[f"- {escape(p)}" for p in card.pre_work]]
    if card.resources:
        out += ["", "**Resources**"]
        out += [f"- {escape(r.name)} ({r.kind}){': ' + escape(r.note) if r.note else ''}" for r in card.resources]
    if card.prerequisites:
        out += ["", "**Read first:** " + ", ".join(card_link(p) for p in card.prerequisites)]
    if card.tags:
        out += ["", "Tags: " + ", ".join(escape(t) for t in card.tags)]
    out += ["", f"File: {escape(card.source.rsplit('/', 1)[-1])}"]
    from coach.knowledge import neutral

    return neutral("\n".join(out))
