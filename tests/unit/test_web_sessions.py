"""Browser sign-ins in the database: the cookie routes, expiry, log-out and the upload guard."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from coach.config import load_settings

T0 = dt.datetime(2027, 3, 1, 9, 0, 0)


def participant(store: Any, email: str, name: str) -> Any:
    """A participant account, mentor of a new pair."""
    from coach.models import Mentee, Mentor, Pair, Program

    pair = Pair(
        mentor=Mentor(name=name, role="Analyst", strengths=["ChatGPT"]),
        mentee=Mentee(name="Robert Klein", role="CFO", goals=["use AI for board reports"]),
        program=Program(sessions=4, minutes=60, cadence="weekly", start=dt.date(2027, 3, 1)),
    )
    return store.add_account(email, name, pair=store.add_pair(pair), side="mentor")


@pytest.fixture
def store() -> Iterator[Any]:
    from coach.store import close_stores, open_store

    yield open_store(load_settings())
    close_stores()


def test_a_session_names_its_account_and_only_its_hash_is_stored(store: Any) -> None:
    from sqlalchemy import text

    person = participant(store, "priya@example.org", "Priya")
    token = store.open_web_session(person, now=T0)
    found = store.web_session(token, now=T0 + dt.timedelta(minutes=1))
    assert found is not None and found.account.email == "priya@example.org" and not found.is_admin
    stored = store.read(lambda s: s.execute(text("SELECT token_hash FROM web_sessions")).scalars().all())
    assert token not in stored and len(stored) == 1 and len(stored[0]) == 64
    admin = store.open_web_session(None, now=T0)
    assert store.web_session(admin, now=T0).is_admin
    boss = store.add_account("boss@example.org", "Boss", role="admin")
    assert store.web_session(store.open_web_session(boss, now=T0), now=T0).is_admin


def test_sessions_end_when_idle_too_long_or_too_old_and_use_keeps_them_alive(store: Any) -> None:
    from coach.store.web_sessions import IDLE_TTL, MAX_TTL

    token = store.open_web_session(None, now=T0)
    assert store.web_session(token, now=T0 + IDLE_TTL + dt.timedelta(seconds=1)) is None
    kept = store.open_web_session(None, now=T0)
    at = T0
    while at < T0 + MAX_TTL - IDLE_TTL:  # used every few hours: alive until the absolute limit
        at += IDLE_TTL / 2
        assert store.web_session(kept, now=at) is not None
    assert store.web_session(kept, now=T0 + MAX_TTL + dt.timedelta(seconds=1)) is None


def test_log_out_and_account_removal_end_the_session(store: Any) -> None:
    person = participant(store, "priya@example.org", "Priya")
    token = store.open_web_session(person)
    assert store.end_web_session(token) is True
    assert store.web_session(token) is None and store.end_web_session(token) is False
    again = store.open_web_session(person)
    store.remove_account("priya@example.org")
    assert store.web_session(again) is None
    assert store.web_session(None) is None and store.web_session("x" * 500) is None


def _client() -> Any:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from ui import web_session

    async def upload(_request: Any) -> Any:
        return PlainTextResponse("stored")

    app = Starlette(
        routes=[*web_session.routes(), Route("/gradio_api/upload", upload, methods=["POST", "GET"])],
        middleware=[Middleware(web_session.UploadGuard)],
    )
    return TestClient(app, base_url="http://127.0.0.1")


def test_adopt_sets_an_http_only_strict_cookie_for_a_live_session_only(store: Any) -> None:
    from ui.web_session import COOKIE

    token = store.open_web_session(None)
    with _client() as client:
        refused = client.post("/auth/adopt", json={"token": "made-up"})
        assert refused.status_code == 400 and COOKIE not in refused.cookies
        # A cross-site form cannot send JSON without a preflight: a text/plain post is refused.
        forged = client.post("/auth/adopt", content=f'{{"token": "{token}"}}', headers={"Content-Type": "text/plain"})
        assert forged.status_code == 400
        ok = client.post("/auth/adopt", json={"token": token})
        assert ok.status_code == 200
        header = ok.headers["set-cookie"].lower()
        assert f"{COOKIE}={token.lower()}" in header and "httponly" in header and "samesite=strict" in header


def test_sign_out_ends_the_session_everywhere_and_clears_the_cookie(store: Any) -> None:
    from ui.web_session import COOKIE

    token = store.open_web_session(None)
    with _client() as client:
        client.cookies.set(COOKIE, token)
        assert client.post("/auth/sign-out", content="{}", headers={"Content-Type": "text/plain"}).status_code == 415
        assert store.web_session(token) is not None
        out = client.post("/auth/sign-out", json={})
        assert out.status_code == 200 and "max-age=0" in out.headers["set-cookie"].lower()
    assert store.web_session(token) is None


def test_uploads_need_a_signed_in_browser_when_guarded(store: Any) -> None:
    from ui.web_session import COOKIE

    with _client() as client:
        refused = client.post("/gradio_api/upload", files={"files": ("pair.yaml", b"mentor: {}\n")})
        assert refused.status_code == 401 and "Sign in" in refused.json()["detail"]
        assert client.get("/gradio_api/upload").text == "stored"  # only uploads are guarded
        client.cookies.set(COOKIE, "not-a-session")
        assert client.post("/gradio_api/upload", files={"files": ("a.yaml", b"x")}).status_code == 401
        client.cookies.set(COOKIE, store.open_web_session(None))
        assert client.post("/gradio_api/upload", files={"files": ("a.yaml", b"x")}).text == "stored"


def test_a_password_reset_ends_the_accounts_other_sign_ins(store: Any) -> None:
    person = participant(store, "priya@example.org", "Priya")
    first = store.create_link("priya@example.org")
    store.accept_link(first, "correct horse battery")
    token = store.open_web_session(store.get_account("priya@example.org"))
    other = store.open_web_session(participant(store, "rob@example.org", "Rob"))
    store.accept_link(store.create_link("priya@example.org", purpose="reset"), "another long password")
    assert store.web_session(token) is None
    assert store.web_session(other) is not None and person.email == "priya@example.org"
