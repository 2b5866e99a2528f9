"""The My pairs tab's handlers: sign-in (throttled), own pairs only, logging for one's own side, log-out."""

from __future__ import annotations

import pytest
from test_store import make_pair, make_plan

from coach.config import load_settings

pytest.importorskip("gradio")


@pytest.fixture
def setup():
    from coach.store import close_stores, open_store

    store = open_store(load_settings())
    pa, pb = make_pair(), make_pair(mentor="Ana Diaz", mentee="Cara Moss")
    a, b = store.add_pair(pa), store.add_pair(pb)
    store.save_plan(a, make_plan(pa, "a"), "generated")
    store.add_account("priya@example.org", "Priya", pair=a, side="mentor")
    store.add_account("cara@example.org", "Cara", pair=b, side="mentee")
    for who in ("priya", "cara"):
        store.accept_link(store.create_link(f"{who}@example.org"), f"{who}-password-1")
    yield store, a, b
    close_stores()


def test_participant_sees_and_logs_only_their_own_pair(setup) -> None:
    from ui import my_pairs_tab as tab

    store, a, b = setup
    account, text = tab.sign_in("priya@example.org", "priya-password-1", "127.0.0.1")
    assert account is not None and "Priya" in text
    assert [pid for _label, pid in tab.my_pairs(account)] == [a]
    plan_md, rows = tab.pair_view(account, a)
    assert "Session 1" in plan_md and rows == []
    assert tab.pair_view(account, b) == ("", [])  # not theirs: nothing at all

    msg = tab.log_session(account, a, 1, "held", "2026-01-12", "5", "great start")
    assert msg.startswith("Logged session 1") and "mentor" in msg
    assert store.sessions(a)[0].ratings == {"mentor": (5, "great start")}
    _md, rows = tab.pair_view(account, a)
    assert rows == [[1, "held", "2026-01-12", "5: great start", ""]]

    assert tab.log_session(account, b, 1, "held", "2026-01-12", "5", "x") == "⚠ No such pair."
    assert store.sessions(b) == []
    assert "date" in tab.log_session(account, a, 2, "held", "12/01/2026", "4", "")
    assert "number" in tab.log_session(account, a, 99, "held", "2026-01-12", "4", "")
    assert tab.log_session(None, a, 1, "held", "2026-01-12", "4", "") == "⚠ Sign in first."
    # Log-out: the state becomes None, and None sees nothing.
    assert tab.my_pairs(None) == [] and tab.pair_view(None, a) == ("", [])


def test_wrong_passwords_are_throttled_and_links_set_passwords(setup) -> None:
    from ui import my_pairs_tab as tab

    store, _a, _b = setup
    for _ in range(5):
        account, text = tab.sign_in("cara@example.org", "wrong", "10.1.1.1")
        assert account is None and "do not match" in text
    account, text = tab.sign_in("cara@example.org", "cara-password-1", "10.1.1.2")
    assert account is None and "too many failed sign-ins" in text

    link = store.create_link("priya@example.org", "reset")
    assert "10 to 200" in tab.set_password(link, "short")
    assert tab.set_password(link, "a-new-password").startswith("Password set")
    assert "not been used" in tab.set_password(link, "again-a-password")
    assert tab.sign_in("priya@example.org", "a-new-password", "10.1.1.3")[0] is not None


def test_the_app_has_the_tab() -> None:
    from ui import app

    assert "My pairs" in str(app.demo.config)
