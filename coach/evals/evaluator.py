"""What every evaluator shares: verdicts and scores, the plan and chat subjects and their prose, the base classes."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from coach.evals.cases import ChatExpect, PlanExpect
from coach.models import Pair, Plan

if TYPE_CHECKING:
    from coach.knowledge import KnowledgeBase
    from coach.retrieval import Retriever


@dataclass(frozen=True)
class Verdict:
    """What an evaluator found: a score in [0, 1] and why."""

    score: float
    reason: str

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0 or math.isnan(self.score):
            raise ValueError(f"a score is in [0, 1], got {self.score}")


@dataclass(frozen=True)
class Score:
    """A verdict checked against its threshold."""

    score: float
    passed: bool
    reason: str

    def as_json(self) -> dict[str, Any]:
        """SPEC.md section 6 form of one evaluator's result."""
        return {"score": round(self.score, 4), "passed": self.passed, "reason": self.reason}


def ratio(ok: int, total: int) -> float:
    """`ok / total` kept in [0, 1]; 1 when there was nothing to check."""
    return 1.0 if total == 0 else max(0.0, min(1.0, ok / total))


def problems_reason(problems: list[str], ok_text: str, limit: int = 3) -> str:
    """The first `limit` problems joined (and how many more), or `ok_text` when there are none."""
    if not problems:
        return ok_text
    more = f" (and {len(problems) - limit} more)" if len(problems) > limit else ""
    return "; ".join(problems[:limit]) + more


class Checklist:
    """Counts an evaluator's checks as they run and keeps the problem of each one that fails."""

    def __init__(self) -> None:
        self.count = 0
        self.problems: list[str] = []

    def __call__(self, ok: bool, problem: str) -> None:
        """Count one check, keeping `problem` when it failed."""
        self.count += 1
        if not ok:
            self.problems.append(problem)

    def score(self) -> float:
        """Share of the checks that passed (1 when there were none)."""
        return ratio(self.count - len(self.problems), self.count)


@dataclass
class PlanSubject:
    """A plan to score, with its pair and what the case expects.

    `plan` is None when the engine produced no plan at all (`missing` says why); every evaluator
    then scores 0. `others` holds the other cases' (pair, plan) for the personalization check.
    """

    pair: Pair
    plan: Plan | None
    kb: KnowledgeBase
    retriever: Retriever | None = None
    expect: PlanExpect = field(default_factory=PlanExpect)
    case_id: str = "plan"
    missing: str | None = None
    others: list[tuple[str, Pair, Plan]] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    #: Masked fingerprints by id(plan), shared between the subjects of one run (see `plan_similarity`).
    fingerprints: dict[int, set[tuple[str, ...]]] = field(default_factory=dict)


@dataclass
class ChatSubject:
    """An answer to score, with the question and what the case expects."""

    question: str
    text: str
    kb: KnowledgeBase
    expect: ChatExpect = field(default_factory=ChatExpect)
    case_id: str = "chat"
    role: str = "mentee"
    secrets: list[str] = field(default_factory=list)


def plan_texts(plan: Plan) -> list[tuple[str, str]]:
    """Every piece of prose in a plan, with where it is (`session 2 prompt 3`)."""
    out: list[tuple[str, str]] = []
    out += [(f"ground rule {i + 1}", t) for i, t in enumerate(plan.ground_rules)]
    out += [(f"success measure {i + 1}", t) for i, t in enumerate(plan.success_measures)]
    for s in plan.sessions:
        out += session_texts(s)
    return out


def session_texts(s: Any) -> list[tuple[str, str]]:
    """The prose of one session, with where each piece is."""
    w = f"session {s.number}"
    out = [(f"{w} title", s.title)]
    out += [(f"{w} objective {i + 1}", t) for i, t in enumerate(s.objectives)]
    out += [(f"{w} pre-work {i + 1}", t) for i, t in enumerate(s.pre_work)]
    out += [(f"{w} agenda {i + 1}", a.activity) for i, a in enumerate(s.agenda)]
    out += [(f"{w} prompt {i + 1}", p.text) for i, p in enumerate(s.discussion_prompts)]
    out += [(f"{w} reflection {i + 1}", t) for i, t in enumerate(s.reflection)]
    return out


def words_of(text: str) -> list[str]:
    """The lowercase words of a text (letters, digits and apostrophes)."""
    return re.findall(r"[a-z0-9']+", text.lower())


def normalise(text: str) -> str:
    """Lowercase words only (the same normalisation the plan checks use for prompts)."""
    from coach.checks import normalise as checks_normalise

    return checks_normalise(text)


class Evaluator:
    """Base of every evaluator: a name and `score(subject) -> Verdict`."""

    name: ClassVar[str] = ""
    #: "plan" or "chat": which subjects it scores.
    subject: ClassVar[str] = "plan"

    def score(self, subject: Any) -> Verdict:  # pragma: no cover - abstract
        """Score one subject."""
        raise NotImplementedError


class PlanEvaluator(Evaluator):
    """An evaluator of plans; a missing plan scores 0."""

    subject: ClassVar[str] = "plan"

    def score(self, subject: PlanSubject) -> Verdict:
        """Score the plan, or 0 when there is none."""
        if subject.plan is None:
            return Verdict(0.0, f"no plan to score: {subject.missing or 'the engine produced none'}")
        return self.score_plan(subject.plan, subject)

    def score_plan(self, plan: Plan, subject: PlanSubject) -> Verdict:  # pragma: no cover - abstract
        """Score a plan that exists."""
        raise NotImplementedError
