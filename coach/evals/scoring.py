"""Scoring: the plan and chat evaluator line-ups, applied to one plan or to everything a run produced."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from coach.errors import CoachError
from coach.evals.cases import PlanCase, PlanExpect, load_thresholds
from coach.evals.chat import ChatEvaluator
from coach.evals.evaluator import ChatSubject, Evaluator, PlanSubject, Score, Verdict
from coach.evals.grounding import CoverageEvaluator, GroundingEvaluator, HonestyEvaluator
from coach.evals.judge import JudgeEvaluator
from coach.evals.prose import (
    DiversityEvaluator,
    PersonalizationEvaluator,
    ReadabilityEvaluator,
    WordingEvaluator,
)
from coach.evals.results import CaseResult, Produced
from coach.evals.structure import BalanceEvaluator, OrderEvaluator, StructureEvaluator
from coach.evals.tone import ToneSafetyEvaluator, system_prompts
from coach.models import Pair, Plan

if TYPE_CHECKING:
    from coach.knowledge import KnowledgeBase
    from coach.providers import Provider
    from coach.retrieval import Retriever


def plan_evaluators(judge: Provider | None = None) -> list[Evaluator]:
    """Every plan evaluator, in report order (the judge last, when given)."""
    out: list[Evaluator] = [
        StructureEvaluator(),
        CoverageEvaluator(),
        GroundingEvaluator(),
        OrderEvaluator(),
        BalanceEvaluator(),
        DiversityEvaluator(),
        PersonalizationEvaluator(),
        ToneSafetyEvaluator(),
        ReadabilityEvaluator(),
        WordingEvaluator(),
        HonestyEvaluator(),
    ]
    if judge is not None:
        out.append(JudgeEvaluator(judge))
    return out


def chat_evaluators() -> list[Evaluator]:
    """Every chat evaluator, in report order."""
    return [ChatEvaluator(), ToneSafetyEvaluator()]


def apply(evaluators: list[Evaluator], subject: Any, thresholds: dict[str, float]) -> dict[str, Score]:
    """Run each evaluator on the subject; a crash in one is a score of 0 with the cause, not a crashed suite."""
    out: dict[str, Score] = {}
    for ev in evaluators:
        try:
            v = ev.score(subject)
        except CoachError:
            raise
        except Exception as exc:  # an evaluator bug must show in the report, not hide the other scores
            v = Verdict(0.0, f"the evaluator failed: {type(exc).__name__}: {exc}")
        limit = thresholds.get(ev.name, 1.0)
        out[ev.name] = Score(v.score, v.score >= limit - 1e-9, v.reason)
    return out


def score_plan(
    plan: Plan,
    pair: Pair,
    kb: KnowledgeBase,
    retriever: Retriever | None = None,
    thresholds: dict[str, float] | None = None,
    judge: Provider | None = None,
    expect: PlanExpect | None = None,
) -> dict[str, Any]:
    """One plan's scores in the SPEC.md section 6 form: {"passed", "scores": {EVALUATOR: {...}}}."""
    limits = thresholds if thresholds is not None else load_thresholds()
    subject = PlanSubject(pair, plan, kb, retriever, expect or PlanExpect(), secrets=system_prompts())
    scores = apply(plan_evaluators(judge), subject, limits)
    return {"passed": all(s.passed for s in scores.values()), "scores": {k: v.as_json() for k, v in scores.items()}}


def score_produced(
    produced: list[Produced],
    kb: KnowledgeBase,
    retriever: Retriever | None,
    thresholds: dict[str, float],
    judge: Provider | None = None,
) -> tuple[list[CaseResult], list[CaseResult]]:
    """Score what the engine produced; cases the engine was not asked about are returned apart (skipped)."""
    secrets = system_prompts()
    plans = [(p.case.id, p.case.pair, p.plan) for p in produced if isinstance(p.case, PlanCase) and p.plan is not None]
    results: list[CaseResult] = []
    skipped: list[CaseResult] = []
    p_evals = plan_evaluators(judge)
    c_evals = chat_evaluators()
    fingerprints: dict[int, set[tuple[str, ...]]] = {}
    for p in produced:
        case = p.case
        if isinstance(case, PlanCase):
            others = [(cid, pr, pl) for cid, pr, pl in plans if cid != case.id]
            subject: Any = PlanSubject(
                case.pair, p.plan, kb, retriever, case.expect, case.id, p.note, others, secrets, fingerprints
            )
            scores = apply(p_evals, subject, thresholds)
        else:
            subject = ChatSubject(case.question, p.text, kb, case.expect, case.id, case.role, secrets)
            if not p.text:
                scores = {ev.name: Score(0.0, False, f"no answer to score: {p.note}") for ev in c_evals}
            else:
                scores = apply(c_evals, subject, thresholds)
        result = CaseResult(case.id, case.kind, scores, p.seconds, p.source, p.note, p.attempts)
        (skipped if p.source == "not asked" else results).append(result)
    return results, skipped
