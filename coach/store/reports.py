"""Reads across every table: a pair's full export, the program report's facts, row counts."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession

from coach.metrics import PairFacts
from coach.store.pairs import PairRepository
from coach.store.schema import Base, EvalRunRow, FeedbackRow, PairRow, PlanRow, SessionRecord


class ReportRepository(PairRepository):
    """Whole-pair export (right of access) and the facts `coach.metrics` turns into the program report."""

    def export_pair(self, ident: str) -> dict[str, Any]:
        """All of the pair's data as JSON-ready data: pair, plan versions, sessions, feedback, eval runs."""

        def stamp(value: dt.datetime) -> str:
            return value.isoformat(timespec="seconds") + "Z"

        def run(s: DbSession) -> dict[str, Any]:
            pid = self.resolve_pair_id(s, ident)
            row = s.get(PairRow, pid)
            assert row is not None
            plans = s.scalars(select(PlanRow).where(PlanRow.pair_id == pid).order_by(PlanRow.version))
            recs = s.scalars(select(SessionRecord).where(SessionRecord.pair_id == pid).order_by(SessionRecord.id))
            fbs = s.scalars(select(FeedbackRow).where(FeedbackRow.pair_id == pid).order_by(FeedbackRow.id))
            evals = s.scalars(select(EvalRunRow).where(EvalRunRow.pair_id == pid).order_by(EvalRunRow.id))
            return {
                "id": pid,
                "cohort": row.cohort,
                "source": row.source,
                "created_at": stamp(row.created_at),
                "pair": json.loads(row.pair_json),
                "plans": [
                    {
                        "version": p.version,
                        "reason": p.reason,
                        "engine": p.engine,
                        "model": p.model,
                        "cohort_run": p.run_id,
                        "created_at": stamp(p.created_at),
                        "plan": json.loads(p.plan_json),
                    }
                    for p in plans
                ],
                "sessions": [
                    {
                        "id": r.id,
                        "number": r.number,
                        "status": r.status,
                        "date": r.date.isoformat(),
                        "notes": r.notes,
                        "created_at": stamp(r.created_at),
                    }
                    for r in recs
                ],
                "feedback": [
                    {
                        "session_record": f.session_record_id,
                        "number": f.number,
                        "side": f.side,
                        "rating": f.rating,
                        "comment": f.comment,
                        "created_at": stamp(f.created_at),
                    }
                    for f in fbs
                ],
                "eval_runs": [
                    {
                        "id": e.id,
                        "engine": e.engine,
                        "model": e.model,
                        "passed": e.passed,
                        "result": json.loads(e.result_json),
                        "created_at": stamp(e.created_at),
                    }
                    for e in evals
                ],
            }

        return self.read(run)

    def report_facts(self, cohort: str | None = None, pair_id: str | None = None) -> list[PairFacts]:
        """What coach.metrics needs for every pair (or the cohort's, or one pair's), in four queries (no plan JSON parsed)."""

        def only(query: Any, column: Any) -> Any:
            # One pair: every query is narrowed in the database, not filtered after reading all rows.
            return query if pair_id is None else query.where(column == pair_id)

        def run(s: DbSession) -> list[PairFacts]:
            pq = select(
                PairRow.id,
                PairRow.mentor_name,
                PairRow.mentee_name,
                PairRow.cohort,
                PairRow.sessions_planned,
                PairRow.cadence,
                PairRow.start,
                PairRow.goals_total,
            ).order_by(PairRow.created_at, PairRow.id)
            if cohort is not None:
                pq = pq.where(PairRow.cohort == cohort)
            pairs = list(s.execute(only(pq, PairRow.id)))
            wanted = {p[0] for p in pairs}
            latest = select(PlanRow.pair_id, func.max(PlanRow.version).label("v")).group_by(PlanRow.pair_id).subquery()
            goals: dict[str, tuple[int, dict[int, list[int]]]] = {}
            for pid, version, raw_goals in s.execute(
                only(
                    select(PlanRow.pair_id, PlanRow.version, PlanRow.session_goals).join(
                        latest, (PlanRow.pair_id == latest.c.pair_id) & (PlanRow.version == latest.c.v)
                    ),
                    PlanRow.pair_id,
                )
            ):
                if pid in wanted:
                    goals[pid] = (version, {int(k): v for k, v in json.loads(raw_goals).items()})
            records: dict[str, list[tuple[int, int, str, dt.date]]] = {}
            for rid, pid, number, status, date in s.execute(
                only(
                    select(
                        SessionRecord.id,
                        SessionRecord.pair_id,
                        SessionRecord.number,
                        SessionRecord.status,
                        SessionRecord.date,
                    ),
                    SessionRecord.pair_id,
                )
            ):
                if pid in wanted:
                    records.setdefault(pid, []).append((rid, number, status, date))
            feedback: dict[str, list[tuple[int, int, str, int]]] = {}
            for fid, pid, number, side, rating in s.execute(
                only(
                    select(
                        FeedbackRow.id, FeedbackRow.pair_id, FeedbackRow.number, FeedbackRow.side, FeedbackRow.rating
                    ),
                    FeedbackRow.pair_id,
                )
            ):
                if pid in wanted:
                    feedback.setdefault(pid, []).append((fid, number, side, rating))
            out = []
            for pid, mentor, mentee, coh, planned, cadence, start, goals_total in pairs:
                version, sg = goals.get(pid, (0, {}))
                out.append(
                    PairFacts(
                        id=pid,
                        mentor=mentor,
                        mentee=mentee,
                        cohort=coh,
                        sessions_planned=planned,
                        cadence=cadence,
                        start=start,
                        goals_total=goals_total,
                        plan_version=version,
                        session_goals=sg,
                        records=records.get(pid, []),
                        feedback=feedback.get(pid, []),
                    )
                )
            return out

        return self.read(run)

    def count_rows(self) -> dict[str, int]:
        """Rows per table (diagnostics and tests)."""
        from sqlalchemy import table as sa_table

        def run(s: DbSession) -> dict[str, int]:
            return {
                name: int(s.scalar(select(func.count()).select_from(sa_table(name))) or 0)
                for name in Base.metadata.tables
            }

        return self.read(run)
