"""Session records (held, cancelled, moved) and the ratings given with them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from coach.errors import InputError
from coach.store.pairs import PairRepository
from coach.store.schema import FeedbackRow, PairRow, SessionRecord, utcnow

STATUSES = ("held", "cancelled", "moved")
SIDES = ("mentor", "mentee")


@dataclass(frozen=True)
class LoggedSession:
    """A session record with the ratings given with it."""

    id: int
    number: int
    status: str
    date: dt.date
    notes: str
    created_at: dt.datetime
    ratings: dict[str, tuple[int, str]] = field(default_factory=dict)


class SessionRepository(PairRepository):
    """What happened to each session of a pair, and each side's feedback."""

    def log_session(
        self,
        ident: str,
        number: int,
        status: str,
        date: dt.date,
        notes: str = "",
        ratings: dict[str, tuple[int, str]] | None = None,
    ) -> int:
        """Record what happened to session `number`, with each side's (rating, comment); returns the record id."""
        if status not in STATUSES:
            raise InputError("--status", "status", f"one of {', '.join(STATUSES)}, got {status!r}")
        ratings = ratings or {}
        for side, (rating, _comment) in ratings.items():
            if side not in SIDES:
                raise InputError(f"--rating-{side}", "side", f"one of {', '.join(SIDES)}")
            if not 1 <= rating <= 5:
                raise InputError(f"--rating-{side}", f"rating_{side}", f"a rating from 1 to 5, got {rating}")
        if ratings and status != "held":
            raise InputError("--status", "status", f"held when ratings are given (a {status} session is not rated)")
        # A held date still to come would count as held in every metric (days since, the monthly table).
        if status == "held" and date > dt.date.today():
            raise InputError(
                "--date",
                "date",
                f"a date on or before today ({dt.date.today().isoformat()}) for a held session, got "
                f"{date.isoformat()}; a session that will happen later is logged as moved",
            )

        def run(s: DbSession) -> int:
            pid = self.resolve_pair_id(s, ident)
            row = s.get(PairRow, pid)
            assert row is not None
            if not 1 <= number <= row.sessions_planned:
                raise InputError(
                    "N", "number", f"a session number from 1 to {row.sessions_planned} for pair {pid}, got {number}"
                )
            now = utcnow()
            rec = SessionRecord(pair_id=pid, number=number, status=status, date=date, notes=notes, created_at=now)
            s.add(rec)
            s.flush()
            for side, (rating, comment) in ratings.items():
                s.add(
                    FeedbackRow(
                        pair_id=pid,
                        session_record_id=rec.id,
                        number=number,
                        side=side,
                        rating=rating,
                        comment=comment,
                        created_at=now,
                    )
                )
            s.flush()
            return int(rec.id)

        return self.write(run)

    def sessions(self, ident: str) -> list[LoggedSession]:
        """Every session record of the pair, in the order they were logged, with their ratings."""

        def run(s: DbSession) -> list[LoggedSession]:
            pid = self.resolve_pair_id(s, ident)
            fb: dict[int, dict[str, tuple[int, str]]] = {}
            for f in s.scalars(select(FeedbackRow).where(FeedbackRow.pair_id == pid)):
                fb.setdefault(f.session_record_id, {})[f.side] = (f.rating, f.comment)
            recs = s.scalars(select(SessionRecord).where(SessionRecord.pair_id == pid).order_by(SessionRecord.id))
            return [
                LoggedSession(r.id, r.number, r.status, r.date, r.notes, r.created_at, fb.get(r.id, {})) for r in recs
            ]

        return self.read(run)

    def session_status(self, ident: str) -> dict[int, LoggedSession]:
        """The latest record per session number (the session's current state)."""
        latest: dict[int, LoggedSession] = {}
        for rec in self.sessions(ident):
            latest[rec.number] = rec
        return latest
