"""Matches: which people of a people file a published pair joins, and each side's fit answers.

`coach match --publish` stores every chosen pair as a normal pair plus a `match_links` row naming
the people-file ids of its mentor and mentee (ids, never names: a deleted pair leaves nothing
behind). After session 1 each side may answer whether the pair is a good fit (`fit_answers`, the
latest answer per side wins); "not a good fit" lets an admin look for alternatives.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm import Session as DbSession

from coach.errors import InputError
from coach.models import Pair
from coach.store.reports import ReportRepository
from coach.store.schema import Base, utcnow

FIT_ANSWERS = ("good-fit", "still-deciding", "not-a-good-fit")
FIT_SIDES = ("mentor", "mentee")


class MatchLinkRow(Base):
    """A published pair's mentor and mentee as people-file ids (for re-matching and history)."""

    __tablename__ = "match_links"

    pair_id: Mapped[str] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"), primary_key=True)
    cohort: Mapped[str | None] = mapped_column(String(200), index=True)
    mentor_ref: Mapped[str] = mapped_column(String(40))
    mentee_ref: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class FitAnswerRow(Base):
    """One side's answer to "is this pair a good fit?" (the latest per side counts)."""

    __tablename__ = "fit_answers"
    __table_args__ = (
        CheckConstraint("side IN ('mentor', 'mentee')", name="ck_fit_answers_side"),
        CheckConstraint("answer IN ('good-fit', 'still-deciding', 'not-a-good-fit')", name="ck_fit_answers_answer"),
        Index("ix_fit_answers_pair", "pair_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pair_id: Mapped[str] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"))
    side: Mapped[str] = mapped_column(String(8))
    answer: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


@dataclass(frozen=True)
class MatchLink:
    """Which people a stored pair joins."""

    pair_id: str
    cohort: str | None
    mentor: str
    mentee: str


@dataclass(frozen=True)
class FitAnswer:
    """One recorded fit answer."""

    side: str
    answer: str
    note: str
    created_at: dt.datetime


class MatchRepository(ReportRepository):
    """Published matches and fit answers."""

    def add_matched_pairs(
        self, pairs: list[Pair], refs: list[tuple[str, str]], cohort: str | None, source: str | None = None
    ) -> list[str]:
        """Store the pairs and their (mentor id, mentee id) links in one transaction; returns the pair ids."""
        from coach.store.pairs import new_pair_id

        ids: list[str] = []
        for _ in pairs:
            pid = new_pair_id()
            while pid in ids:
                pid = new_pair_id()
            ids.append(pid)
        now = utcnow()

        def run(s: DbSession) -> list[str]:
            for i, (pid, pair, (mentor, mentee)) in enumerate(zip(ids, pairs, refs, strict=True)):
                row = self._pair_row(pair, cohort, source, pid)
                row.created_at = now + dt.timedelta(microseconds=i)
                s.add(row)
                s.flush()
                s.add(MatchLinkRow(pair_id=pid, cohort=cohort, mentor_ref=mentor, mentee_ref=mentee, created_at=now))
            s.flush()
            return ids

        return self.write(run)

    def match_link(self, ident: str) -> MatchLink | None:
        """The people a stored pair joins, or None for a pair that was not published by `coach match`."""

        def run(s: DbSession) -> MatchLink | None:
            pid = self.resolve_pair_id(s, ident)
            row = s.get(MatchLinkRow, pid)
            return None if row is None else MatchLink(row.pair_id, row.cohort, row.mentor_ref, row.mentee_ref)

        return self.read(run)

    def match_links(self, cohort: str | None = None) -> list[MatchLink]:
        """Every published link (optionally of one cohort), oldest first."""

        def run(s: DbSession) -> list[MatchLink]:
            q = select(MatchLinkRow).order_by(MatchLinkRow.created_at, MatchLinkRow.pair_id)
            if cohort is not None:
                q = q.where(MatchLinkRow.cohort == cohort)
            return [MatchLink(r.pair_id, r.cohort, r.mentor_ref, r.mentee_ref) for r in s.scalars(q)]

        return self.read(run)

    def record_fit(self, ident: str, side: str, answer: str, note: str = "") -> int:
        """Record one side's fit answer for a stored pair; returns the answer's id."""
        if side not in FIT_SIDES:
            raise InputError("--side", "side", f"one of {', '.join(FIT_SIDES)}, got {side!r}")
        if answer not in FIT_ANSWERS:
            raise InputError("--answer", "answer", f"one of {', '.join(FIT_ANSWERS)}, got {answer!r}")
        if len(note) > 2000:
            raise InputError("--note", "note", "at most 2,000 characters")

        def run(s: DbSession) -> int:
            pid = self.resolve_pair_id(s, ident)
            row = FitAnswerRow(pair_id=pid, side=side, answer=answer, note=note, created_at=utcnow())
            s.add(row)
            s.flush()
            return int(row.id)

        return self.write(run)

    def fit_answers(self, ident: str) -> dict[str, FitAnswer]:
        """The latest answer per side for a stored pair."""

        def run(s: DbSession) -> dict[str, FitAnswer]:
            pid = self.resolve_pair_id(s, ident)
            rows = s.scalars(select(FitAnswerRow).where(FitAnswerRow.pair_id == pid).order_by(FitAnswerRow.id))
            return {r.side: FitAnswer(r.side, r.answer, r.note, r.created_at) for r in rows}

        return self.read(run)

    def delete_pair(self, ident: str) -> tuple[str, dict[str, int]]:
        """Remove the pair's match link and fit answers, then every other row of the pair."""

        def run(s: DbSession) -> tuple[str, dict[str, int]]:
            pid = self.resolve_pair_id(s, ident)
            counts: dict[str, int] = {}
            for model in (FitAnswerRow, MatchLinkRow):
                res = s.execute(delete(model).where(model.pair_id == pid))
                counts[str(model.__tablename__)] = int(res.rowcount or 0)  # type: ignore[attr-defined]
            return pid, counts

        pid, mine = self.write(run)
        pid, counts = super().delete_pair(pid)
        return pid, {**mine, **counts}

    def export_pair(self, ident: str) -> dict[str, Any]:
        """All of the pair's data, with its match link and fit answers."""
        data = super().export_pair(ident)
        pid = data["id"]

        def run(s: DbSession) -> dict[str, Any]:
            link = s.get(MatchLinkRow, pid)
            answers = s.scalars(select(FitAnswerRow).where(FitAnswerRow.pair_id == pid).order_by(FitAnswerRow.id))
            return {
                "match": None
                if link is None
                else {"cohort": link.cohort, "mentor": link.mentor_ref, "mentee": link.mentee_ref},
                "fit_answers": [
                    {
                        "side": a.side,
                        "answer": a.answer,
                        "note": a.note,
                        "created_at": a.created_at.isoformat(timespec="seconds") + "Z",
                    }
                    for a in answers
                ],
            }

        data.update(self.read(run))
        return data
