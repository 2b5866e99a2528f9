"""Browser sign-ins: a random cookie token per signed-in browser, kept in the database as its SHA-256.

A sign-in (an account's email and password, or the admin password) opens a web session; the app
sets its token as an HttpOnly cookie and looks the session up again on every request, so a reload
keeps the sign-in, signing out anywhere ends it everywhere, and two app processes on one database
serve as one. Sessions end after `IDLE_TTL` without use or `MAX_TTL` after sign-in.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm import Session as DbSession

from coach.store.accounts import Account, AccountRepository, AccountRow, token_hash
from coach.store.schema import Base, utcnow

#: A session unused for this long ends (the next request finds no session).
IDLE_TTL = dt.timedelta(hours=12)
#: A session ends this long after sign-in whatever its use.
MAX_TTL = dt.timedelta(days=14)
#: `last_seen` is written at most this often, so reads stay reads.
TOUCH_EVERY = dt.timedelta(minutes=5)
KINDS = ("account", "admin-password")


class WebSessionRow(Base):
    """One signed-in browser: its token's SHA-256, who it is and until when it lasts."""

    __tablename__ = "web_sessions"
    __table_args__ = (CheckConstraint("kind IN ('account', 'admin-password')", name="ck_web_sessions_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime)


@dataclass(frozen=True)
class WebSession:
    """A live browser sign-in: the admin password (no account) or an account."""

    kind: str
    account: Account | None

    @property
    def is_admin(self) -> bool:
        """Signed in with the admin password or as an admin account."""
        return self.kind == "admin-password" or (self.account is not None and self.account.is_admin)


class WebSessionRepository(AccountRepository):
    """Open, find and end browser sign-ins."""

    def open_web_session(self, account: Account | None, now: dt.datetime | None = None) -> str:
        """A new session token for `account` (None: the admin password); only its hash is stored."""
        at = now or utcnow()
        token = secrets.token_urlsafe(32)
        kind = "admin-password" if account is None else "account"

        def run(s: DbSession) -> None:
            s.add(
                WebSessionRow(
                    token_hash=token_hash(token),
                    kind=kind,
                    account_id=None if account is None else account.id,
                    created_at=at,
                    last_seen=at,
                )
            )
            # Ended sessions are removed as new ones start, so the table holds live sessions only.
            s.execute(
                delete(WebSessionRow).where(
                    (WebSessionRow.last_seen < at - IDLE_TTL) | (WebSessionRow.created_at < at - MAX_TTL)
                )
            )

        self.write(run)
        return token

    def web_session(self, token: str | None, now: dt.datetime | None = None) -> WebSession | None:
        """The live session of this cookie token, or None (unknown, ended or expired)."""
        if not token or len(token) > 200:
            return None
        at = now or utcnow()
        digest = token_hash(token)

        def run(s: DbSession) -> tuple[WebSession | None, bool]:
            row = s.scalar(select(WebSessionRow).where(WebSessionRow.token_hash == digest))
            if row is None or row.last_seen < at - IDLE_TTL or row.created_at < at - MAX_TTL:
                return None, False
            account = None
            if row.account_id is not None:
                account_row = s.get(AccountRow, row.account_id)
                if account_row is None:
                    return None, False
                account = self._account(s, account_row)
            return WebSession(row.kind, account), row.last_seen < at - TOUCH_EVERY

        found, stale = self.read(run)
        if found is not None and stale:

            def touch(s: DbSession) -> None:
                row = s.scalar(select(WebSessionRow).where(WebSessionRow.token_hash == digest))
                if row is not None:
                    row.last_seen = at

            self.write(touch)
        return found

    def end_web_session(self, token: str | None) -> bool:
        """Sign this browser out; True when a session was ended."""
        if not token:
            return False
        digest = token_hash(token)

        def run(s: DbSession) -> bool:
            res = s.execute(delete(WebSessionRow).where(WebSessionRow.token_hash == digest))
            return bool(res.rowcount)  # type: ignore[attr-defined]

        return self.write(run)

    def accept_link(self, token: str, password: str, now: dt.datetime | None = None) -> Account:
        """Set the password from a one-time link; the account's browser sign-ins end (a reset locks others out)."""
        account = super().accept_link(token, password, now)

        def run(s: DbSession) -> None:
            s.execute(delete(WebSessionRow).where(WebSessionRow.account_id == account.id))

        self.write(run)
        return account

    def end_admin_password_sessions(self) -> int:
        """End every admin-password sign-in (after the admin password changes); how many ended."""

        def run(s: DbSession) -> int:
            res = s.execute(delete(WebSessionRow).where(WebSessionRow.kind == "admin-password"))
            return int(res.rowcount or 0)  # type: ignore[attr-defined]

        return self.write(run)
