"""Grounding and coverage evaluators: every goal reaches a matching session; every reference is a cited card's."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar

from coach.errors import CoachError
from coach.evals.evaluator import Checklist, PlanEvaluator, PlanSubject, Verdict, plan_texts, problems_reason, ratio
from coach.models import MENTOR_DOMAINS, Plan

#: How many of a goal's best-matching mentor-domain cards count as matching it (no case expectations).
GOAL_MATCH_K = 8


class CoverageEvaluator(PlanEvaluator):
    """Every goal reaches a session that is labelled with it and whose topics match it.

    A topic matches a goal when its domain is one the case expects for that goal, or (no
    expectation) when it is among the goal's `GOAL_MATCH_K` best mentor-domain cards by retrieval.
    """

    name: ClassVar[str] = "coverage"

    def score_plan(self, plan: Plan, subject: PlanSubject) -> Verdict:
        """Share of goals covered."""
        goals = subject.pair.mentee.goals
        matches = self._matchers(subject)
        problems = []
        declared = set(plan.uncovered_goals)
        for gi, goal in enumerate(goals):
            if goal in declared:
                continue  # declared uncovered: the honesty evaluator judges whether that is true
            claimed = [s for s in plan.sessions if gi in s.goals]
            if not claimed:
                problems.append(f"goal {gi + 1} ({goal!r}) is not claimed by any session")
                continue
            if not any(matches[gi](t.id, t.domain) for s in claimed for t in s.topics):
                problems.append(
                    f"goal {gi + 1} ({goal!r}): sessions {', '.join(str(s.number) for s in claimed)} claim it, "
                    "but none of their topics matches it"
                )
        counted = len([g for g in goals if g not in declared])
        score = ratio(counted - len(problems), counted)
        ok = f"all {counted} goals the cards serve reach a matching session"
        return Verdict(score, problems_reason(problems, ok))

    def _matchers(self, subject: PlanSubject) -> list[Callable[[str, str], bool]]:
        goals = subject.pair.mentee.goals
        out: list[Callable[[str, str], bool]] = []
        unexpected = [gi for gi in range(len(goals)) if gi >= len(subject.expect.goals)]
        hits: dict[int, set[str]] = {}
        if unexpected:
            if subject.retriever is None:
                raise CoachError("the coverage evaluator needs the retriever for goals without expectations")
            found = subject.retriever.search_many(
                [goals[gi] for gi in unexpected], k=GOAL_MATCH_K, domains=set(MENTOR_DOMAINS)
            )
            hits = {gi: {h.card.id for h in hs} for gi, hs in zip(unexpected, found, strict=True)}
        for gi in range(len(goals)):
            if gi < len(subject.expect.goals):
                domains = set(subject.expect.goals[gi].domains)
                out.append(lambda _id, domain, d=domains: domain in d)  # type: ignore[misc]
            else:
                ids = hits[gi]
                out.append(lambda cid, _domain, ids=ids: cid in ids)  # type: ignore[misc]
        return out


_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_QUOTED_TITLE = re.compile(
    r"\b(?i:read|reading|book|watch|listen\s+to|podcast|course|report|article|guide)\b[^.?!\"“]{0,24}?"
    r"[\"“*_]([A-Z][^\"”*_]{3,80})[\"”*_]"
)


class GroundingEvaluator(PlanEvaluator):
    """Topic and citation ids resolve to cards; topics are cited; named resources come from cited cards."""

    name: ClassVar[str] = "grounding"

    def score_plan(self, plan: Plan, subject: PlanSubject) -> Verdict:
        """Share of references (topics, citations, resources, titles, URLs) that are grounded."""
        kb = subject.kb
        ref = Checklist()
        cited_cards = []
        for s in plan.sessions:
            w = f"session {s.number}"
            cited = {c.topic_id for c in s.citations}
            for t in s.topics:
                card = kb.get(t.id)
                ref(card is not None, f"{w}: topic {t.id!r} is not a card")
                if card is not None:
                    ref(card.domain == t.domain, f"{w}: topic {t.id!r} is {card.domain}, not {t.domain}")
                ref(t.id in cited, f"{w}: topic {t.id!r} is not cited")
            for c in s.citations:
                card = kb.get(c.topic_id)
                ref(card is not None, f"{w}: citation {c.topic_id!r} is not a card")
                if card is not None:
                    cited_cards.append(card)
                    ref(
                        not c.source or _same_source(c.source, card.source),
                        f"{w}: citation {c.topic_id!r} points at {c.source}, the card is {card.source}",
                    )
        cited_text = " ".join(_card_text(c) for c in cited_cards).lower()
        cited_resources = {r.name.lower() for c in cited_cards for r in c.resources}
        all_resources = {r.name for c in kb.cards for r in c.resources if len(r.name) >= 6}
        text = "\n".join(t for _, t in plan_texts(plan))
        low = text.lower()
        for name in sorted(all_resources):
            if name.lower() in low:
                ref(
                    name.lower() in cited_resources or name.lower() in cited_text,
                    f"names the resource {name!r}, which no cited card has",
                )
        titles = {c.title.lower() for c in kb.cards} | {r.name.lower() for c in kb.cards for r in c.resources}
        for m in _QUOTED_TITLE.finditer(text):
            title = m.group(1).strip().lower()
            ref(
                any(title in known for known in titles) or title in cited_text,
                f"names {m.group(1)!r}, which is not a resource or title of any card",
            )
        for m in _URL.finditer(text):
            ref(m.group(0).lower() in cited_text, f"links {m.group(0)!r}, which is not in a cited card")
        return Verdict(ref.score(), problems_reason(ref.problems, f"all {ref.count} references resolve to cited cards"))


def _same_source(given: str, actual: str) -> bool:
    g, a = given.replace("\\", "/").strip(), actual.replace("\\", "/").strip()
    return g == a or g.endswith("/" + a) or a.endswith("/" + g)


def _card_text(card: Any) -> str:
    parts = [card.title, card.summary, *card.objectives, *card.pitfalls, *card.pre_work]
    parts += [f"{k.term} {k.meaning}" for k in card.key_concepts]
    parts += [f"{a.title} {a.description}" for a in card.activities]
    parts += [p.text for p in card.discussion_prompts]
    parts += [f"{r.name} {r.note}" for r in card.resources]
    return " ".join(parts)


class HonestyEvaluator(PlanEvaluator):
    """The plan claims only what the cards serve (SPEC.md section 3, `uncovered_goals`).

    Fails on: a goal no card serves that a session or a success measure claims, or that is missing
    from `uncovered_goals`; a goal listed there that a card does serve; a success measure about a
    teaching domain that none of the goals touches (a goal touches the domains of its best cards).
    """

    name: ClassVar[str] = "honesty"

    def score_plan(self, plan: Plan, subject: PlanSubject) -> Verdict:
        """Share of goals and success measures that claim nothing the cards do not serve."""
        from coach.checks import DOMAIN_NAMES, served_goals

        goals = subject.pair.mentee.goals
        if subject.retriever is None:
            raise CoachError("the honesty evaluator needs the retriever to tell which goals the cards serve")
        served = served_goals(goals, subject.retriever)
        declared = set(plan.uncovered_goals)
        check = Checklist()
        for gi, goal in enumerate(goals):
            g = f"goal {gi + 1} ({goal!r})"
            if served[gi]:
                check(goal not in declared, f"{g} is listed as uncovered, but cards serve it")
                continue
            claimed = [str(s.number) for s in plan.sessions if gi in s.goals]
            measured = any(goal.lower() in m.lower() for m in plan.success_measures)
            check(
                not claimed and not measured and goal in declared,
                f"{g}: no card serves it, yet "
                + (
                    f"sessions {', '.join(claimed)} claim it"
                    if claimed
                    else "a success measure claims it"
                    if measured
                    else "uncovered_goals does not list it"
                ),
            )
        touched: set[str] = set()
        wanted = [goal for gi, goal in enumerate(goals) if served[gi]]
        if wanted:
            for hits in subject.retriever.search_many(wanted, k=5, domains=set(MENTOR_DOMAINS)):
                touched |= {h.card.domain for h in hits}
        for k, measure in enumerate(plan.success_measures):
            text = measure.lower()
            for goal in goals:
                text = text.replace(goal.lower(), " ")
            strays = [
                d
                for d in MENTOR_DOMAINS
                if d not in touched and (d in text or re.search(rf"\b{re.escape(DOMAIN_NAMES[d].lower())}\b", text))
            ]
            check(
                not strays,
                f"success measure {k + 1} is about {DOMAIN_NAMES[strays[0]] if strays else ''}, which no goal touches",
            )
        return Verdict(
            check.score(),
            problems_reason(check.problems, f"claims only what the cards serve ({check.count} goals and measures)"),
        )
