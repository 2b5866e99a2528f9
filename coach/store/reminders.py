"""Reminders already sent: one row per e-mail, keyed by what it was about, so none goes out twice.

The key names what was sent and to which side, e.g. ``briefing:PAIR:3:mentor`` or
``assessment:PAIR:followup-3m:mentee``; it is unique, so a second send of the same key fails.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, String, delete
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm import Session as DbSession

from coach.store.pairs import PairRepository
from coach.store.schema import Base


class ReminderSentRow(Base):
    """One reminder e-mail sent: its key (what and to which side), the address and when."""

    __tablename__ = "reminders_sent"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime)


class ReminderRepository(PairRepository):
    """Sent reminders leave with their pair: deleting a pair removes the rows whose key names it."""

    def delete_pair(self, ident: str) -> tuple[str, dict[str, int]]:
        """Delete the pair's sent-reminder rows (their key and address name it), then the rest of the pair."""

        def run(s: DbSession) -> tuple[str, int]:
            pid = self.resolve_pair_id(s, ident)
            # Keys are "KIND:PAIR:...": the pair id (hex) is a whole segment, never a LIKE wildcard.
            res = s.execute(delete(ReminderSentRow).where(ReminderSentRow.key.like(f"%:{pid}:%")))
            return pid, int(res.rowcount or 0)  # type: ignore[attr-defined]

        pid, sent = self.write(run)
        pid, counts = super().delete_pair(pid)
        return pid, {**counts, "reminders_sent": sent}
