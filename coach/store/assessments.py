"""Assessments in the database: each side's baseline, closing and follow-up answers for a pair.

Every assessment is a new row (history is kept); for each pair, side and slot (baseline,
closing, followup-3m/12m/24m) the latest row counts. Comfort and goal ratings are small JSON
objects validated by `coach.assessments.parse_assessment` before they get here.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm import Session as DbSession

from coach.assessments import Assessment, AssessmentIn
from coach.store.reports import ReportRepository
from coach.store.schema import Base, utcnow

if TYPE_CHECKING:
    from coach.metrics import PairFacts


class AssessmentRow(Base):
    """One side's assessment of a pair: kind (and which follow-up), comfort, goal attainment, answers."""

    __tablename__ = "assessments"
    __table_args__ = (
        CheckConstraint("side IN ('mentor', 'mentee')", name="ck_assessments_side"),
        CheckConstraint("kind IN ('baseline', 'closing', 'followup')", name="ck_assessments_kind"),
        CheckConstraint(
            "(kind = 'followup' AND followup_months IN (3, 12, 24)) OR (kind <> 'followup' AND followup_months IS NULL)",
            name="ck_assessments_followup",
        ),
        CheckConstraint("recommend IS NULL OR recommend BETWEEN 0 AND 10", name="ck_assessments_recommend"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pair_id: Mapped[str] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"), index=True)
    side: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16))
    followup_months: Mapped[int | None] = mapped_column(Integer)
    assessed_on: Mapped[dt.date] = mapped_column(Date)
    #: {"DOMAIN": 1-5}
    comfort_json: Mapped[str] = mapped_column(Text)
    #: {"GOAL NUMBER": -2..2}
    goals_json: Mapped[str] = mapped_column(Text)
    used_at_work: Mapped[bool | None] = mapped_column(Boolean)
    example: Mapped[str] = mapped_column(Text)
    recommend: Mapped[int | None] = mapped_column(Integer)
    #: The account's e-mail, "admin" or "csv:FILE" (who typed it in).
    entered_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


#: The columns read back, in the order `_assessment` takes them (plain rows: no ORM objects to build).
_COLUMNS = (
    AssessmentRow.side,
    AssessmentRow.kind,
    AssessmentRow.followup_months,
    AssessmentRow.assessed_on,
    AssessmentRow.comfort_json,
    AssessmentRow.goals_json,
    AssessmentRow.used_at_work,
    AssessmentRow.example,
    AssessmentRow.recommend,
    AssessmentRow.id,
    AssessmentRow.pair_id,
    AssessmentRow.entered_by,
    AssessmentRow.created_at,
)


def _assessment(row: Any) -> Assessment:
    side, kind, months, on, comfort, goals, used, example, recommend, rid, pid, by, created = row
    return Assessment(
        side=side,
        kind=kind,
        followup_months=months,
        assessed_on=on,
        comfort=json.loads(comfort),
        goals={int(k): v for k, v in json.loads(goals).items()},
        used_at_work=used,
        example=example,
        recommend=recommend,
        id=rid,
        pair_id=pid,
        entered_by=by,
        created_at=created,
    )


class AssessmentRepository(ReportRepository):
    """Store and read assessments; a deleted or exported pair takes its assessments along."""

    def add_assessments(
        self, items: Iterable[tuple[str, AssessmentIn]], entered_by: str, now: dt.datetime | None = None
    ) -> list[int]:
        """Store (pair id or prefix, assessment) items in one transaction (all or nothing); their row ids."""
        todo = list(items)
        stamp = now or utcnow()

        def run(s: DbSession) -> list[int]:
            rows = []
            for ident, a in todo:
                row = AssessmentRow(
                    pair_id=self.resolve_pair_id(s, ident),
                    side=a.side,
                    kind=a.kind,
                    followup_months=a.followup_months,
                    assessed_on=a.assessed_on,
                    comfort_json=json.dumps(a.comfort, sort_keys=True),
                    goals_json=json.dumps({str(k): v for k, v in sorted(a.goals.items())}),
                    used_at_work=a.used_at_work,
                    example=a.example,
                    recommend=a.recommend,
                    entered_by=entered_by[:254],
                    created_at=stamp,
                )
                s.add(row)
                rows.append(row)
            s.flush()
            return [r.id for r in rows]

        return self.write(run)

    def add_assessment(self, ident: str, a: AssessmentIn, entered_by: str, now: dt.datetime | None = None) -> int:
        """Store one assessment of the pair; its row id."""
        return self.add_assessments([(ident, a)], entered_by, now)[0]

    def assessments(self, ident: str) -> list[Assessment]:
        """Every assessment of the pair, oldest first."""

        def run(s: DbSession) -> list[Assessment]:
            pid = self.resolve_pair_id(s, ident)
            rows = s.execute(select(*_COLUMNS).where(AssessmentRow.pair_id == pid).order_by(AssessmentRow.id))
            return [_assessment(r) for r in rows]

        return self.read(run)

    def all_assessments(self, pair_ids: Iterable[str] | None = None) -> dict[str, list[Assessment]]:
        """Assessments per pair id, oldest first (every pair, or only `pair_ids`), in one query."""
        wanted = None if pair_ids is None else set(pair_ids)

        def run(s: DbSession) -> dict[str, list[Assessment]]:
            out: dict[str, list[Assessment]] = {}
            query = select(*_COLUMNS).order_by(AssessmentRow.id)
            if wanted is not None and len(wanted) == 1:
                query = query.where(AssessmentRow.pair_id == next(iter(wanted)))
            for row in s.execute(query):
                if wanted is None or row.pair_id in wanted:
                    out.setdefault(row.pair_id, []).append(_assessment(row))
            return out

        return self.read(run)

    def report_facts(self, cohort: str | None = None, pair_id: str | None = None) -> list[PairFacts]:
        """The report's facts with each pair's assessments and latest fit answers (two more queries)."""
        from coach.store.matches import FitAnswerRow

        facts = super().report_facts(cohort, pair_id)
        found = self.all_assessments({f.id for f in facts})

        def run(s: DbSession) -> dict[str, dict[str, str]]:
            fit: dict[str, dict[str, str]] = {}
            q = select(FitAnswerRow.pair_id, FitAnswerRow.side, FitAnswerRow.answer).order_by(FitAnswerRow.id)
            if pair_id is not None:
                q = q.where(FitAnswerRow.pair_id == pair_id)
            for pid, side, answer in s.execute(q):
                fit.setdefault(pid, {})[side] = answer
            return fit

        fits = self.read(run)
        return [replace(f, assessments=found.get(f.id, []), fit=fits.get(f.id, {})) for f in facts]

    def delete_pair(self, ident: str) -> tuple[str, dict[str, int]]:
        """Remove the pair's assessments, then every other row of the pair."""

        def run(s: DbSession) -> tuple[str, int]:
            pid = self.resolve_pair_id(s, ident)
            res = s.execute(delete(AssessmentRow).where(AssessmentRow.pair_id == pid))
            return pid, int(res.rowcount or 0)  # type: ignore[attr-defined]

        pid, gone = self.write(run)
        pid, counts = super().delete_pair(pid)
        return pid, {**counts, "assessments": gone}

    def export_pair(self, ident: str) -> dict[str, Any]:
        """All of the pair's data, with its assessments."""
        data = super().export_pair(ident)
        data["assessments"] = [
            {
                "side": a.side,
                "kind": a.kind,
                "followup_months": a.followup_months,
                "date": a.assessed_on.isoformat(),
                "comfort": a.comfort,
                "goals": {str(k): v for k, v in a.goals.items()},
                "used_at_work": a.used_at_work,
                "example": a.example,
                "recommend": a.recommend,
                "entered_by": a.entered_by,
                "created_at": a.created_at.isoformat(timespec="seconds") + "Z",
            }
            for a in self.assessments(data["id"])
        ]
        return data
