"""Comparing runs: a run cut down to the cases another ran, and a run against a baseline run (regressions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def restrict(run: dict[str, Any], case_ids: set[str]) -> dict[str, Any]:
    """A run's JSON limited to some cases, its evaluator means recomputed (to compare engines on the same cases)."""
    cases = [c for c in run["cases"] if c["id"] in case_ids]
    evaluators: dict[str, Any] = {}
    for name, ev in run["evaluators"].items():
        scores = [c["scores"][name] for c in cases if name in c["scores"]]
        if not scores:
            continue
        mean = sum(float(s["score"]) for s in scores) / len(scores)
        evaluators[name] = {
            **ev,
            "mean": round(mean, 4),
            "passed": mean >= ev["threshold"] - 1e-9,
            "failing_cases": sum(1 for s in scores if not s["passed"]),
            "cases": len(scores),
        }
    return {
        **run,
        "cases": cases,
        "evaluators": evaluators,
        "passed": all(e["passed"] for e in evaluators.values()),
        "same_cases": len(cases),
    }


#: A mean that drops by more than this counts as a regression.
REGRESSION_TOLERANCE = 0.005


@dataclass
class Comparison:
    """A run against a baseline run."""

    baseline_id: int
    baseline_engine: str
    baseline_model: str
    baseline_commit: str
    #: evaluator -> (baseline mean, current mean, regressed)
    evaluators: dict[str, tuple[float | None, float | None, bool]]
    #: (case id, evaluator, baseline score, current score) for case scores that dropped
    case_regressions: list[tuple[str, str, float, float]]

    @property
    def regressed(self) -> bool:
        """Whether anything got worse."""
        return bool(self.case_regressions) or any(r for _, _, r in self.evaluators.values())

    def as_json(self) -> dict[str, Any]:
        """JSON-ready comparison."""
        return {
            "baseline_run_id": self.baseline_id,
            "baseline_engine": self.baseline_engine,
            "baseline_model": self.baseline_model,
            "baseline_commit": self.baseline_commit,
            "regressed": self.regressed,
            "evaluators": {
                k: {
                    "baseline": None if b is None else round(b, 4),
                    "current": None if c is None else round(c, 4),
                    "regressed": r,
                }
                for k, (b, c, r) in self.evaluators.items()
            },
            "case_regressions": [
                {"case": cid, "evaluator": ev, "baseline": round(b, 4), "current": round(c, 4)}
                for cid, ev, b, c in self.case_regressions
            ],
        }


def compare(current: dict[str, Any], baseline: dict[str, Any], baseline_id: int) -> Comparison:
    """Compare two runs' JSON (`SuiteResult.as_json`): evaluator means and case scores that dropped."""
    cur_ev = {k: v["mean"] for k, v in current.get("evaluators", {}).items()}
    base_ev = {k: v["mean"] for k, v in baseline.get("evaluators", {}).items()}
    evaluators: dict[str, tuple[float | None, float | None, bool]] = {}
    for k in [*cur_ev, *[k for k in base_ev if k not in cur_ev]]:
        b, c = base_ev.get(k), cur_ev.get(k)
        evaluators[k] = (b, c, b is not None and c is not None and c < b - REGRESSION_TOLERANCE)
    base_cases = {c["id"]: c for c in baseline.get("cases", [])}
    regressions = []
    for case in current.get("cases", []):
        old = base_cases.get(case["id"])
        if old is None:
            continue
        for ev, s in case["scores"].items():
            o = old["scores"].get(ev)
            if o is not None and float(s["score"]) < float(o["score"]) - REGRESSION_TOLERANCE:
                regressions.append((case["id"], ev, float(o["score"]), float(s["score"])))
    return Comparison(
        baseline_id,
        str(baseline.get("engine", "")),
        str(baseline.get("model", "")),
        str(baseline.get("git_commit", "")),
        evaluators,
        regressions,
    )
