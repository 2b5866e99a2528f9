"""Accounts: people who sign in, the pairs they are in, API tokens, invitations, throttling, audit.

Passwords are hashed with Argon2 (`argon2-cffi`); API tokens and invitation links are random and
stored only as their SHA-256, so a copy of the database does not let anyone in. Failed sign-ins
are rows in the database (not process memory), so every app process sees the same count: five
failures for an account, or from an address, within 15 minutes lock that key for 15 minutes.
Every method that depends on the time takes `now` (naive UTC; tests pass their own).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm import Session as DbSession

from coach.errors import CoachError, InputError
from coach.store.pairs import PairRepository
from coach.store.schema import Base, utcnow

ROLES = ("admin", "participant")
SIDES = ("mentor", "mentee")
#: Invitation and password-reset links stop working after this long.
INVITE_TTL = dt.timedelta(days=7)
#: Failures per key (account or address) within THROTTLE_WINDOW that lock the key.
MAX_FAILURES = 5
THROTTLE_WINDOW = dt.timedelta(minutes=15)
MIN_PASSWORD = 10
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


class AccountRow(Base):
    """One person who can sign in: an admin, or a participant linked to pairs."""

    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("role IN ('admin', 'participant')", name="ck_accounts_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class AccountPairRow(Base):
    """An account's place in a pair, as its mentor or its mentee."""

    __tablename__ = "account_pairs"
    __table_args__ = (
        UniqueConstraint("account_id", "pair_id", name="uq_account_pairs"),
        CheckConstraint("side IN ('mentor', 'mentee')", name="ck_account_pairs_side"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    pair_id: Mapped[str] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"), index=True)
    side: Mapped[str] = mapped_column(String(8))


class ApiTokenRow(Base):
    """An API token, kept only as the SHA-256 of the token."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class InvitationRow(Base):
    """A one-time link (an invitation or a password reset) that sets the account's password."""

    __tablename__ = "invitations"
    __table_args__ = (CheckConstraint("purpose IN ('invite', 'reset')", name="ck_invitations_purpose"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class SignInFailureRow(Base):
    """One failed sign-in, under a key: `account:EMAIL` or `address:IP`."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(300), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)


class AuditRow(Base):
    """One admin read, export or deletion (`coach audit`)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")


@dataclass(frozen=True)
class Account:
    """A signed-in person: `pairs` maps each of their pair ids to their side in it."""

    id: int
    email: str
    name: str
    role: str
    pairs: dict[str, str]
    has_password: bool = False

    @property
    def is_admin(self) -> bool:
        """Whether this account administers the whole program."""
        return self.role == "admin"


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log."""

    at: dt.datetime
    actor: str
    action: str
    target: str
    detail: str


class Throttled(CoachError):
    """Too many failed sign-ins for this account or address; `until` is when it may try again."""

    def __init__(self, until: dt.datetime) -> None:
        self.until = until
        super().__init__(f"too many failed sign-ins; try again after {until:%H:%M} UTC")


def token_hash(token: str) -> str:
    """The stored form of an API token or a link token."""
    return hashlib.sha256(token.encode()).hexdigest()


def normal_email(email: str, flag: str = "EMAIL") -> str:
    """The email lower-cased and stripped, or InputError naming `flag`."""
    value = (email or "").strip().lower()
    if not EMAIL_RE.match(value) or len(value) > 254:
        raise InputError(flag, "email", f"an email address like name@example.org, got {email!r}")
    return value


def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()


class AccountRepository(PairRepository):
    """Accounts and everything that proves who someone is."""

    # ------------------------------------------------------------------------------------ accounts

    @staticmethod
    def _account(s: DbSession, row: AccountRow) -> Account:
        links = s.scalars(select(AccountPairRow).where(AccountPairRow.account_id == row.id).order_by(AccountPairRow.id))
        return Account(
            row.id, row.email, row.name, row.role, {link.pair_id: link.side for link in links}, bool(row.password_hash)
        )

    @staticmethod
    def _row(s: DbSession, email: str) -> AccountRow:
        row = s.scalar(select(AccountRow).where(AccountRow.email == normal_email(email)))
        if row is None:
            raise InputError("EMAIL", "email", f"an existing account, but there is none for {email!r}")
        return row

    def add_account(
        self, email: str, name: str, role: str = "participant", pair: str | None = None, side: str | None = None
    ) -> Account:
        """Create an account (or, for an existing participant, link one more pair); returns it."""
        address = normal_email(email)
        name = (name or "").strip()
        if not name or len(name) > 120:
            raise InputError("--name", "name", "a name of 1 to 120 characters")
        if role not in ROLES:
            raise InputError("--role", "role", f"one of {', '.join(ROLES)}, got {role!r}")
        if role == "admin" and (pair or side):
            raise InputError("--pair", "pair", "no pair for an admin (admins see every pair)")
        if role == "participant" and not (pair and side):
            raise InputError("--pair", "pair", "--pair PAIR_ID and --side mentor|mentee for a participant")
        if side is not None and side not in SIDES:
            raise InputError("--side", "side", f"one of {', '.join(SIDES)}, got {side!r}")

        def run(s: DbSession) -> Account:
            row = s.scalar(select(AccountRow).where(AccountRow.email == address))
            if row is None:
                row = AccountRow(email=address, name=name, role=role, password_hash=None, created_at=utcnow())
                s.add(row)
                s.flush()
            elif row.role != role or role == "admin":
                raise InputError("EMAIL", "email", f"a new email; {address} already has an account ({row.role})")
            if pair is not None and side is not None:
                pid = self.resolve_pair_id(s, pair)
                taken = s.scalar(
                    select(AccountPairRow).where(AccountPairRow.pair_id == pid, AccountPairRow.side == side)
                )
                if taken is not None and taken.account_id != row.id:
                    raise InputError("--side", "side", f"a free side: pair {pid} already has a {side} account")
                mine = s.scalar(
                    select(AccountPairRow).where(AccountPairRow.pair_id == pid, AccountPairRow.account_id == row.id)
                )
                if mine is not None:
                    raise InputError("--pair", "pair", f"a pair {address} is not in yet; already its {mine.side}")
                s.add(AccountPairRow(account_id=row.id, pair_id=pid, side=side))
                s.flush()
            return self._account(s, row)

        return self.write(run)

    def get_account(self, email: str) -> Account | None:
        """The account with this email, or None."""
        address = (email or "").strip().lower()

        def run(s: DbSession) -> Account | None:
            row = s.scalar(select(AccountRow).where(AccountRow.email == address))
            return None if row is None else self._account(s, row)

        return self.read(run)

    def accounts(self) -> list[Account]:
        """Every account, by email."""

        def run(s: DbSession) -> list[Account]:
            return [self._account(s, r) for r in s.scalars(select(AccountRow).order_by(AccountRow.email))]

        return self.read(run)

    def remove_account(self, email: str) -> Account:
        """Delete an account with its links, tokens and open links; returns what it was."""

        def run(s: DbSession) -> Account:
            row = self._row(s, email)
            gone = self._account(s, row)
            for model in (AccountPairRow, ApiTokenRow, InvitationRow):
                s.execute(delete(model).where(model.account_id == row.id))
            s.execute(delete(SignInFailureRow).where(SignInFailureRow.key == f"account:{row.email}"))
            s.delete(row)
            return gone

        return self.write(run)

    def delete_pair(self, ident: str) -> tuple[str, dict[str, int]]:
        """Unlink the pair's accounts (the accounts stay), then remove every other row of the pair."""

        def run(s: DbSession) -> tuple[str, int]:
            pid = self.resolve_pair_id(s, ident)
            res = s.execute(delete(AccountPairRow).where(AccountPairRow.pair_id == pid))
            return pid, int(res.rowcount or 0)  # type: ignore[attr-defined]

        pid, links = self.write(run)
        pid, counts = super().delete_pair(pid)
        return pid, {**counts, "account_pairs": links}

    # -------------------------------------------------------------------------------- API tokens

    def issue_token(self, email: str, now: dt.datetime | None = None) -> str:
        """A new API token for the account (only its hash is stored); earlier tokens keep working."""
        token = "coach_" + secrets.token_urlsafe(32)

        def run(s: DbSession) -> None:
            row = self._row(s, email)
            s.add(ApiTokenRow(account_id=row.id, token_hash=token_hash(token), created_at=now or utcnow()))

        self.write(run)
        return token

    def account_for_token(self, token: str) -> Account | None:
        """The account an API token belongs to, or None for an unknown token."""
        if not token or len(token) > 200:
            return None
        digest = token_hash(token)

        def run(s: DbSession) -> Account | None:
            found = s.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == digest))
            if found is None:
                return None
            row = s.get(AccountRow, found.account_id)
            return None if row is None else self._account(s, row)

        return self.read(run)

    # ------------------------------------------------------------------ passwords and their links

    def create_link(self, email: str, purpose: str = "invite", now: dt.datetime | None = None) -> str:
        """A one-time token that sets the password (valid INVITE_TTL); `reset` also clears the old password."""
        if purpose not in ("invite", "reset"):
            raise InputError("purpose", "purpose", "invite or reset")
        token = secrets.token_urlsafe(32)
        at = now or utcnow()

        def run(s: DbSession) -> None:
            row = self._row(s, email)
            if purpose == "reset":
                row.password_hash = None
            s.add(
                InvitationRow(
                    account_id=row.id,
                    token_hash=token_hash(token),
                    purpose=purpose,
                    created_at=at,
                    expires_at=at + INVITE_TTL,
                    used_at=None,
                )
            )

        self.write(run)
        return token

    def accept_link(self, token: str, password: str, now: dt.datetime | None = None) -> Account:
        """Set the password through a one-time link; an used, unknown or expired link is refused."""
        if len(password or "") < MIN_PASSWORD or len(password) > 200:
            raise InputError("password", "password", f"a password of {MIN_PASSWORD} to 200 characters")
        at = now or utcnow()
        digest = token_hash(token or "")
        hashed = _hasher().hash(password)

        def run(s: DbSession) -> Account:
            link = s.scalar(select(InvitationRow).where(InvitationRow.token_hash == digest))
            if link is None or link.used_at is not None:
                raise InputError("link", "link", "a link that has not been used yet (ask an admin for a new one)")
            if at >= link.expires_at:
                raise InputError("link", "link", "a link less than 7 days old (ask an admin for a new one)")
            row = s.get(AccountRow, link.account_id)
            assert row is not None
            link.used_at = at
            row.password_hash = hashed
            return self._account(s, row)

        return self.write(run)

    def throttled_until(self, keys: list[str], now: dt.datetime | None = None) -> dt.datetime | None:
        """When the first locked key of `keys` unlocks, or None when none is locked."""
        at = now or utcnow()

        def run(s: DbSession) -> dt.datetime | None:
            until: dt.datetime | None = None
            for key in keys:
                times = list(
                    s.scalars(
                        select(SignInFailureRow.at)
                        .where(SignInFailureRow.key == key, SignInFailureRow.at > at - THROTTLE_WINDOW)
                        .order_by(SignInFailureRow.at.desc())
                        .limit(MAX_FAILURES)
                    )
                )
                if len(times) >= MAX_FAILURES:
                    end = times[0] + THROTTLE_WINDOW
                    until = end if until is None else max(until, end)
            return until

        return self.read(run)

    def sign_in(self, email: str, password: str, address: str = "", now: dt.datetime | None = None) -> Account | None:
        """The account when the password is right; None when wrong; Throttled while locked.

        The same failure is recorded under the account and the address, and a locked key is refused
        before the password is even checked, so guessing cannot go on in the background.
        """
        at = now or utcnow()
        address_key = f"address:{address}" if address else ""
        account_key = f"account:{(email or '').strip().lower()[:254]}"
        keys = [k for k in (account_key, address_key) if k]
        until = self.throttled_until(keys, at)
        if until is not None:
            raise Throttled(until)
        account = self.get_account(email)
        stored = None
        if account is not None:
            stored = self.read(lambda s: s.scalar(select(AccountRow.password_hash).where(AccountRow.id == account.id)))
        ok = False
        hasher = _hasher()
        try:
            if stored:
                ok = bool(hasher.verify(stored, password or ""))
            else:
                hasher.hash(password or "")  # about the same time whether or not the account exists
        except Exception:  # argon2 raises VerifyMismatchError / InvalidHashError
            ok = False

        self.record_sign_in(keys, ok, at, clear=account_key)
        return account if ok else None

    def record_sign_in(self, keys: list[str], ok: bool, now: dt.datetime | None = None, clear: str = "") -> None:
        """Record a failed sign-in under every key (a success clears the `clear` key's failures)."""
        at = now or utcnow()

        def run(s: DbSession) -> None:
            if ok:
                if clear:
                    s.execute(delete(SignInFailureRow).where(SignInFailureRow.key == clear))
            else:
                for key in keys:
                    s.add(SignInFailureRow(key=key, at=at))
            s.execute(delete(SignInFailureRow).where(SignInFailureRow.at < at - THROTTLE_WINDOW * 4))

        self.write(run)

    # ---------------------------------------------------------------------------------- audit log

    def audit(
        self, actor: str, action: str, target: str = "", detail: str = "", now: dt.datetime | None = None
    ) -> None:
        """Record an admin read, export or deletion."""

        def run(s: DbSession) -> None:
            s.add(
                AuditRow(at=now or utcnow(), actor=actor[:254], action=action[:40], target=target[:200], detail=detail)
            )

        self.write(run)

    def audit_entries(self, limit: int = 100) -> list[AuditEntry]:
        """The newest `limit` audit entries, oldest first."""

        def run(s: DbSession) -> list[AuditEntry]:
            rows = list(s.scalars(select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)))
            return [AuditEntry(r.at, r.actor, r.action, r.target, r.detail) for r in reversed(rows)]

        return self.read(run)
