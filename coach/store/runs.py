"""Eval runs (with their per-case scores) and cohort planning runs."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session as DbSession

from coach.store.pairs import PairInfo, PairRepository
from coach.store.schema import CohortRun, EvalRunRow, EvalScoreRow, PairRow, PlanRow, utcnow


class RunRepository(PairRepository):
    """Stored `coach eval` results and resumable `coach cohort plan` runs."""

    @staticmethod
    def _eval_run_row(
        result: dict[str, Any],
        engine: str,
        model: str,
        passed: bool,
        pair_id: str | None = None,
        kind: str | None = None,
        git_commit: str | None = None,
    ) -> EvalRunRow:
        return EvalRunRow(
            pair_id=pair_id,
            engine=engine,
            model=model,
            passed=passed,
            result_json=json.dumps(result, ensure_ascii=False),
            created_at=utcnow(),
            kind=kind,
            git_commit=git_commit,
        )

    def record_eval_run(
        self, result: dict[str, Any], engine: str, model: str, passed: bool, pair_id: str | None = None
    ) -> int:
        """Store an eval result; returns its id."""

        def run(s: DbSession) -> int:
            pid = self.resolve_pair_id(s, pair_id) if pair_id else None
            row = self._eval_run_row(result, engine, model, passed, pair_id=pid)
            s.add(row)
            s.flush()
            return int(row.id)

        return self.write(run)

    def record_suite_run(self, result: dict[str, Any], engine: str, model: str, passed: bool, git_commit: str) -> int:
        """Store a `coach eval` suite run with one row per case and evaluator; returns the run id.

        `result` is the run's JSON (`SuiteResult.as_json`); its `cases[].scores` become `eval_scores` rows.
        """

        def run(s: DbSession) -> int:
            row = self._eval_run_row(result, engine, model, passed, kind="suite", git_commit=git_commit or None)
            s.add(row)
            s.flush()
            for case in result.get("cases", []):
                for name, sc in case.get("scores", {}).items():
                    s.add(
                        EvalScoreRow(
                            run_id=row.id,
                            case_id=str(case["id"]),
                            evaluator=name,
                            score=float(sc["score"]),
                            passed=bool(sc["passed"]),
                            reason=str(sc.get("reason", "")),
                        )
                    )
            return int(row.id)

        return self.write(run)

    def eval_run(self, run_id: int) -> dict[str, Any] | None:
        """A stored suite run as its JSON, with `run_id` and `created_at` from the row; None if there is none."""

        def run(s: DbSession) -> dict[str, Any] | None:
            row = s.get(EvalRunRow, run_id)
            if row is None or row.kind != "suite":
                return None
            data: dict[str, Any] = json.loads(row.result_json)
            data["run_id"] = row.id
            data["created_at"] = row.created_at.isoformat(timespec="seconds") + "Z"
            return data

        return self.read(run)

    def eval_scores(self, run_id: int) -> list[tuple[str, str, float, bool, str]]:
        """(case id, evaluator, score, passed, reason) rows of a suite run, in case and evaluator order."""

        def run(s: DbSession) -> list[tuple[str, str, float, bool, str]]:
            q = select(EvalScoreRow).where(EvalScoreRow.run_id == run_id).order_by(EvalScoreRow.id)
            return [(r.case_id, r.evaluator, r.score, r.passed, r.reason) for r in s.scalars(q)]

        return self.read(run)

    def eval_runs(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest suite runs, newest first: id, created_at, engine, model, git_commit, passed."""

        def run(s: DbSession) -> list[dict[str, Any]]:
            q = select(EvalRunRow).where(EvalRunRow.kind == "suite").order_by(EvalRunRow.id.desc()).limit(limit)
            return [
                {
                    "id": r.id,
                    "created_at": r.created_at.isoformat(timespec="seconds") + "Z",
                    "engine": r.engine,
                    "model": r.model,
                    "git_commit": r.git_commit or "",
                    "passed": r.passed,
                }
                for r in s.scalars(q)
            ]

        return self.read(run)

    # ----------------------------------------------------------------- cohort runs

    def open_run(self, cohort: str | None, mode: str) -> tuple[int, bool]:
        """The unfinished run for this cohort and mode, or a new one; returns (run id, resumed)."""

        def run(s: DbSession) -> tuple[int, bool]:
            q = select(CohortRun).where(CohortRun.finished_at.is_(None), CohortRun.mode == mode)
            q = q.where(CohortRun.cohort.is_(None)) if cohort is None else q.where(CohortRun.cohort == cohort)
            found = s.scalars(q.order_by(CohortRun.id.desc()).limit(1)).first()
            if found is not None:
                return int(found.id), True
            row = CohortRun(cohort=cohort, mode=mode, started_at=utcnow(), finished_at=None)
            s.add(row)
            s.flush()
            return int(row.id), False

        return self.write(run)

    def finish_run(self, run_id: int) -> None:
        """Mark a cohort run complete."""
        self.write(lambda s: s.execute(update(CohortRun).where(CohortRun.id == run_id).values(finished_at=utcnow())))

    def pairs_to_plan(self, run_id: int, cohort: str | None, mode: str) -> list[PairInfo]:
        """Pairs the run still has to plan: without any plan ("missing") or without one from this run ("all")."""

        def run(s: DbSession) -> list[PairInfo]:
            done = select(PlanRow.pair_id)
            if mode == "all":
                done = done.where(PlanRow.run_id == run_id)
            q = select(PairRow).where(PairRow.id.not_in(done)).order_by(PairRow.created_at, PairRow.id)
            if cohort is not None:
                q = q.where(PairRow.cohort == cohort)
            rows = list(s.scalars(q))
            versions = self._latest_versions(s, [r.id for r in rows]) if mode == "all" else {}
            return [self._info(r, versions.get(r.id, 0)) for r in rows]

        return self.read(run)
