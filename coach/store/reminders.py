"""Reminders already sent: one row per e-mail, keyed by what it was about, so none goes out twice.

The key names what was sent and to which side, e.g. ``briefing:PAIR:3:mentor`` or
``assessment:PAIR:followup-3m:mentee``; it is unique, so a second send of the same key fails.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from coach.store.schema import Base


class ReminderSentRow(Base):
    """One reminder e-mail sent: its key (what and to which side), the address and when."""

    __tablename__ = "reminders_sent"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime)
