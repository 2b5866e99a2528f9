"""Accounts in the program store: links to pairs, tokens, one-time links, throttling, the audit log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from coach.config import load_settings
from coach.errors import InputError
from coach.models import Mentee, Mentor, Pair, Program

T0 = dt.datetime(2027, 3, 1, 9, 0, 0)


def make_pair(mentee: str = "Robert Klein") -> Pair:
    return Pair(
        mentor=Mentor(name="Priya Shah", role="Analyst", strengths=["ChatGPT"]),
        mentee=Mentee(name=mentee, role="CFO", goals=["use AI for board reports"]),
        program=Program(sessions=4, minutes=60, cadence="weekly", start=dt.date(2027, 3, 1)),
    )


@pytest.fixture
def store() -> Iterator[object]:
    from coach.store import close_stores, open_store

    yield open_store(load_settings())
    close_stores()


def test_accounts_link_pairs_and_never_store_secrets(store) -> None:
    a = store.add_pair(make_pair())
    b = store.add_pair(make_pair("Other Senior"))
    admin = store.add_account("Boss@Example.org", "Boss", role="admin")
    assert admin.is_admin and admin.email == "boss@example.org" and admin.pairs == {}
    junior = store.add_account("priya@example.org", "Priya", pair=a, side="mentor")
    junior = store.add_account("priya@example.org", "Priya", pair=b[:8], side="mentor")  # a junior mentors two
    assert junior.pairs == {a: "mentor", b: "mentor"}
    with pytest.raises(InputError, match="already has a mentor"):
        store.add_account("x@example.org", "X", pair=a, side="mentor")
    with pytest.raises(InputError, match="--side"):
        store.add_account("y@example.org", "Y", pair=a, side="coach")
    with pytest.raises(InputError, match="email"):
        store.add_account("not-an-email", "Y", role="admin")
    with pytest.raises(InputError, match="already has an account"):
        store.add_account("boss@example.org", "Boss", role="admin")

    token = store.issue_token("priya@example.org")
    assert store.account_for_token(token).email == "priya@example.org"
    assert store.account_for_token(token + "x") is None
    assert store.account_for_token("") is None
    link = store.create_link("priya@example.org", now=T0)
    store.accept_link(link, "a long enough secret", now=T0)
    with store.engine.connect() as conn:
        dump = " ".join(
            str(r) for t in ("api_tokens", "invitations", "accounts") for r in conn.execute(text(f"SELECT * FROM {t}"))
        )
    assert token not in dump and link not in dump and "a long enough secret" not in dump
    assert "$argon2id$" in dump

    # Deleting a pair unlinks it; the account stays. Removing an account removes its tokens.
    store.delete_pair(a)
    assert store.get_account("priya@example.org").pairs == {b: "mentor"}
    store.remove_account("priya@example.org")
    assert store.get_account("priya@example.org") is None
    assert store.account_for_token(token) is None


def test_invitation_is_one_time_and_expires_after_7_days(store) -> None:
    store.add_account("a@example.org", "A", role="admin")
    link = store.create_link("a@example.org", now=T0)
    with pytest.raises(InputError, match="7 days"):
        store.accept_link(link, "password-long-1", now=T0 + dt.timedelta(days=7))
    link = store.create_link("a@example.org", now=T0)
    with pytest.raises(InputError, match="password"):
        store.accept_link(link, "short", now=T0)
    store.accept_link(link, "password-long-1", now=T0 + dt.timedelta(days=6, hours=23))
    with pytest.raises(InputError, match="not been used"):
        store.accept_link(link, "password-long-2", now=T0 + dt.timedelta(days=1))
    assert store.sign_in("a@example.org", "password-long-1", now=T0) is not None

    # An admin reset clears the old password at once; the new link sets another.
    reset = store.create_link("a@example.org", purpose="reset", now=T0)
    assert store.sign_in("a@example.org", "password-long-1", now=T0) is None
    store.accept_link(reset, "password-long-3", now=T0)
    assert store.sign_in("a@example.org", "password-long-3", now=T0).email == "a@example.org"


def test_failed_sign_ins_lock_the_account_and_the_address_for_15_minutes(store) -> None:
    from coach.store import Throttled

    store.add_account("a@example.org", "A", role="admin")
    store.accept_link(store.create_link("a@example.org", now=T0), "right-password", now=T0)
    for i in range(5):
        assert store.sign_in("a@example.org", "wrong", "10.0.0.1", now=T0 + dt.timedelta(seconds=i)) is None
    # Locked even with the right password, from another address too (per account).
    with pytest.raises(Throttled):
        store.sign_in("a@example.org", "right-password", "10.0.0.2", now=T0 + dt.timedelta(minutes=1))
    # The address is locked for other accounts as well (per address).
    with pytest.raises(Throttled):
        store.sign_in("b@example.org", "anything", "10.0.0.1", now=T0 + dt.timedelta(minutes=1))
    # 15 minutes after the last failure both unlock.
    later = T0 + dt.timedelta(minutes=15, seconds=5)
    assert store.sign_in("a@example.org", "right-password", "10.0.0.1", now=later) is not None

    # Four failures are not enough; a fifth locks.
    for i in range(4):
        store.sign_in("c@example.org", "x", "10.0.0.9", now=later + dt.timedelta(seconds=i))
    assert store.throttled_until(["account:c@example.org"], later + dt.timedelta(seconds=10)) is None
    store.sign_in("c@example.org", "x", "10.0.0.9", now=later + dt.timedelta(seconds=10))
    until = store.throttled_until(["account:c@example.org"], later + dt.timedelta(seconds=11))
    assert until == later + dt.timedelta(seconds=10, minutes=15)


def test_throttling_is_shared_by_two_processes(store, tmp_path) -> None:
    """Failures are rows in the database: a second engine (another process) sees the lock."""
    from coach.store import Store, Throttled

    store.add_account("a@example.org", "A", role="admin")
    for i in range(5):
        store.sign_in("a@example.org", "wrong", "", now=T0 + dt.timedelta(seconds=i))
    other = Store(store.url, store.home)
    with pytest.raises(Throttled):
        other.sign_in("a@example.org", "wrong", "", now=T0 + dt.timedelta(minutes=2))
    other.engine.dispose()


def test_audit_log_keeps_entries_in_order(store) -> None:
    store.audit("boss@example.org", "export", "pair abc", now=T0)
    store.audit("cli", "delete", "pair def", "3 rows", now=T0 + dt.timedelta(seconds=1))
    entries = store.audit_entries()
    assert [(e.actor, e.action, e.target) for e in entries] == [
        ("boss@example.org", "export", "pair abc"),
        ("cli", "delete", "pair def"),
    ]
    assert store.audit_entries(limit=1)[0].action == "delete"
