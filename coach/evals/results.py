"""Run results: what the engine produced for a case, how each case scored, and the whole run (SPEC section 6)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from coach.evals.cases import JUDGE, PLAN_EVALUATORS, Case
from coach.evals.evaluator import Score
from coach.models import Plan


@dataclass
class Produced:
    """What an engine produced for one case, before scoring."""

    case: Case
    plan: Plan | None = None
    text: str = ""
    source: str = "offline"
    note: str | None = None
    attempts: int = 0
    seconds: float = 0.0


@dataclass
class CaseResult:
    """What one case produced and how it scored."""

    case_id: str
    kind: str
    scores: dict[str, Score]
    seconds: float
    #: How the engine got there: "offline", "model" (its own plan), "no plan", "not asked".
    source: str = "offline"
    note: str | None = None
    attempts: int = 0

    @property
    def passed(self) -> bool:
        """Whether every evaluator passed."""
        return all(s.passed for s in self.scores.values())

    def as_json(self) -> dict[str, Any]:
        """JSON-ready result."""
        return {
            "id": self.case_id,
            "kind": self.kind,
            "passed": self.passed,
            "source": self.source,
            "note": self.note,
            "attempts": self.attempts,
            "seconds": round(self.seconds, 3),
            "scores": {k: v.as_json() for k, v in self.scores.items()},
        }


@dataclass
class SuiteResult:
    """A whole run: per-case results, per-evaluator means against the thresholds."""

    engine: str
    model: str
    cases: list[CaseResult]
    thresholds: dict[str, float]
    started_at: dt.datetime
    seconds: float
    git_commit: str = ""
    cases_dir: str = ""
    run_id: int | None = None
    skipped: list[CaseResult] = field(default_factory=list)

    def means(self) -> dict[str, float]:
        """Mean score per evaluator over the cases it ran on."""
        acc: dict[str, list[float]] = {}
        for c in self.cases:
            for name, s in c.scores.items():
                acc.setdefault(name, []).append(s.score)
        order = [*PLAN_EVALUATORS, "chat", JUDGE]
        return {
            k: sum(acc[k]) / len(acc[k]) for k in sorted(acc, key=lambda n: (order.index(n) if n in order else 99, n))
        }

    def below(self) -> dict[str, tuple[float, float]]:
        """Evaluators whose mean is below their threshold: name -> (mean, threshold)."""
        return {
            k: (m, self.thresholds.get(k, 1.0))
            for k, m in self.means().items()
            if m < self.thresholds.get(k, 1.0) - 1e-9
        }

    @property
    def passed(self) -> bool:
        """Whether every evaluator's mean reaches its threshold."""
        return not self.below()

    def as_json(self) -> dict[str, Any]:
        """JSON-ready run (what `--format json` prints and the store keeps)."""
        means = self.means()
        failing: dict[str, int] = {}
        for c in self.cases:
            for k, s in c.scores.items():
                if not s.passed:
                    failing[k] = failing.get(k, 0) + 1
        return {
            "run_id": self.run_id,
            "engine": self.engine,
            "model": self.model,
            "git_commit": self.git_commit,
            "created_at": self.started_at.isoformat(timespec="seconds") + "Z",
            "seconds": round(self.seconds, 2),
            "cases_dir": self.cases_dir,
            "passed": self.passed,
            "evaluators": {
                k: {
                    "mean": round(m, 4),
                    "threshold": self.thresholds.get(k, 1.0),
                    "passed": m >= self.thresholds.get(k, 1.0) - 1e-9,
                    "failing_cases": failing.get(k, 0),
                    "cases": sum(1 for c in self.cases if k in c.scores),
                }
                for k, m in means.items()
            },
            "cases": [c.as_json() for c in self.cases],
            "skipped": [c.as_json() for c in self.skipped],
        }
