"""The plan as the model writes it: output models, their JSON schema, and conversion to and from a Plan."""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from coach.models import AgendaItem, Citation, DiscussionPrompt, Lead, Plan, PlanTopic, Session

if TYPE_CHECKING:
    from coach.knowledge import KnowledgeBase


class AgendaOut(BaseModel):
    """One timed block; the blocks of a session add up to its minutes."""

    minutes: int = Field(description="whole minutes")
    activity: str
    lead: Lead = Field(description="who leads it: mentor (junior), mentee (senior leader) or both")


class PromptOut(BaseModel):
    """A discussion question one side asks the other."""

    text: str
    asked_by: Lead


class SessionOut(BaseModel):
    """One session of the curriculum."""

    number: int
    date: dt.date = Field(description="YYYY-MM-DD")
    title: str
    minutes: int
    topic_ids: list[str] = Field(description="ids of the topic cards this session uses")
    objectives: list[str]
    pre_work: list[str]
    agenda: list[AgendaOut]
    discussion_prompts: list[PromptOut]
    reflection: list[str]
    goals: list[int] = Field(description="0-based indexes of the mentee goals this session serves")


class PlanOut(BaseModel):
    """A reverse-mentoring curriculum: ground rules, success measures and the sessions in order."""

    ground_rules: list[str]
    success_measures: list[str]
    sessions: list[SessionOut]


SCHEMA_NAME = "curriculum_plan"


@functools.cache
def _plan_schema_json() -> str:
    schema = PlanOut.model_json_schema()
    schema["title"] = SCHEMA_NAME
    return json.dumps(schema)


def plan_schema() -> dict[str, Any]:
    """The JSON schema of the plan the model writes (a fresh copy; generating it is the slow part)."""
    return json.loads(_plan_schema_json())  # type: ignore[no-any-return]


def plan_to_out(plan: Plan) -> dict[str, Any]:
    """A plan in the compact form the model reads and writes (topics as card ids)."""
    return {
        "ground_rules": plan.ground_rules,
        "success_measures": plan.success_measures,
        "sessions": [
            {
                "number": s.number,
                "date": s.date.isoformat(),
                "title": s.title,
                "minutes": s.minutes,
                "topic_ids": [t.id for t in s.topics],
                "objectives": s.objectives,
                "pre_work": s.pre_work,
                "agenda": [a.model_dump() for a in s.agenda],
                "discussion_prompts": [p.model_dump() for p in s.discussion_prompts],
                "reflection": s.reflection,
                "goals": s.goals,
            }
            for s in plan.sessions
        ],
    }


def hydrate(out: PlanOut, base: Plan, kb: KnowledgeBase) -> tuple[Plan, list[str]]:
    """Turn the model's plan into a Plan: card titles, domains and sources come from the cards, not the model."""
    problems: list[str] = []
    sessions: list[Session] = []
    for i, s in enumerate(out.sessions):
        topics: list[PlanTopic] = []
        citations: list[Citation] = []
        for tid in dict.fromkeys(s.topic_ids):
            card = kb.get(tid)
            if card is None:
                problems.append(f"session {i + 1}: topic {tid!r} is not a card in the knowledge base")
                continue
            topics.append(PlanTopic(id=card.id, title=card.title, domain=card.domain))
            citations.append(Citation(topic_id=card.id, source=card.source))
        bad_minutes = [a.minutes for a in s.agenda if a.minutes < 1]
        if bad_minutes:
            problems.append(f"session {i + 1}: every agenda block needs at least 1 minute")
        sessions.append(
            Session(
                number=s.number,
                date=s.date,
                title=s.title,
                minutes=max(1, s.minutes),
                topics=topics,
                objectives=s.objectives,
                pre_work=s.pre_work,
                agenda=[AgendaItem(minutes=max(1, a.minutes), activity=a.activity, lead=a.lead) for a in s.agenda],
                discussion_prompts=[DiscussionPrompt(text=p.text, asked_by=p.asked_by) for p in s.discussion_prompts],
                reflection=s.reflection,
                citations=citations,
                goals=sorted(set(s.goals)),
            )
        )
    if not out.ground_rules:
        problems.append("ground_rules is empty: keep the draft's ground rules or write your own")
    plan = base.model_copy(
        update={
            "ground_rules": out.ground_rules,
            "success_measures": out.success_measures,
            "sessions": sessions,
            "fallback_reason": None,
        }
    )
    return plan, problems
