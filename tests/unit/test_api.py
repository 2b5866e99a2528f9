"""The JSON API (SPEC.md section 10): every route x {no token, other participant, own participant, admin}.

Requests go through FastAPI's TestClient over the application `ui/app.py` mounts at /api/v1, with
real tokens in a real store; the last test mounts it on Gradio's own app exactly as `launch()` does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from test_store import make_pair, make_plan

from coach.config import load_settings

P = "/api/v1"


@dataclass
class World:
    client: object
    store: object
    a: str  # pair A: mentored by `own`
    b: str  # pair B: `other` is its mentee
    tokens: dict[str, str]

    def get(self, path: str, who: str | None) -> object:
        return self.client.get(path, headers=self.auth(who))

    def post(self, path: str, who: str | None, body: object) -> object:
        return self.client.post(path, headers=self.auth(who), json=body)

    def auth(self, who: str | None) -> dict[str, str]:
        return {} if who is None else {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def world() -> Iterator[World]:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from starlette.routing import Mount

    from coach.api import create_api
    from coach.store import close_stores, open_store

    store = open_store(load_settings())
    pa, pb = make_pair(mentee="Robert Klein"), make_pair(mentor="Ana Diaz", mentee="Cara Moss")
    a, b = store.add_pair(pa), store.add_pair(pb)
    store.save_plan(a, make_plan(pa, "a"), "generated")
    store.save_plan(b, make_plan(pb, "b"), "generated")
    store.add_account("admin@example.org", "Admin", role="admin")
    store.add_account("own@example.org", "Priya", pair=a, side="mentor")
    store.add_account("other@example.org", "Cara", pair=b, side="mentee")
    tokens = {w: store.issue_token(f"{w}@example.org") for w in ("admin", "own", "other")}
    tokens["wrong"] = tokens["own"][:-2] + "xx"
    app = FastAPI(routes=[Mount(P, app=create_api(lambda: store))])
    with TestClient(app) as client:
        yield World(client, store, a, b, tokens)
    close_stores()


HELD = {"status": "held", "date": "2026-01-12", "rating": 4, "comment": "useful"}


def test_without_a_valid_token_every_route_is_401(world: World) -> None:
    routes = [
        ("get", f"{P}/pairs", None),
        ("get", f"{P}/pairs/{world.a}/plan", None),
        ("post", f"{P}/pairs/{world.a}/sessions/1", HELD),
        ("post", f"{P}/pairs/{world.a}/sessions/1", {"status": "nonsense"}),  # auth comes before the body
        ("post", f"{P}/pairs/{world.a}/assessments", {"kind": "baseline", "comfort": {"generative-ai": 2}}),
        ("get", f"{P}/report", None),
    ]
    for method, path, body in routes:
        for who in (None, "wrong"):
            r = world.get(path, who) if method == "get" else world.post(path, who, body)
            assert r.status_code == 401, (method, path, who, r.text)
            assert r.headers["www-authenticate"] == "Bearer"
        r = world.client.get(path, headers={"Authorization": f"Basic {world.tokens['own']}"})
        assert r.status_code in (401, 405)
    assert world.store.sessions(world.a) == []


def test_list_pairs_per_role(world: World) -> None:
    ids = {who: [p["id"] for p in world.get(f"{P}/pairs", who).json()] for who in ("own", "other", "admin")}
    assert ids == {"own": [world.a], "other": [world.b], "admin": [world.a, world.b]}
    row = world.get(f"{P}/pairs", "own").json()[0]
    assert {"id", "mentor", "mentee"} <= set(row) and row["mentor"] == "Priya Shah" and row["side"] == "mentor"


def test_plan_per_role(world: World) -> None:
    path = f"{P}/pairs/{world.a}/plan"
    assert world.get(path, "other").status_code == 404
    own = world.get(path, "own")
    assert own.status_code == 200 and own.json()["sessions"][0]["title"]
    assert own.json() == world.get(path, "admin").json()
    # The same answer for a pair that does not exist and one that may not be seen; no id prefixes.
    missing = world.get(f"{P}/pairs/zzzzzzzzzzzz/plan", "other")
    hidden = world.get(path, "other")
    assert missing.status_code == hidden.status_code == 404 and missing.json() == hidden.json()
    assert world.get(f"{P}/pairs/{world.a[:8]}/plan", "admin").status_code == 404
    assert world.get(f"{P}/pairs/{world.a[:8]}/plan", "own").status_code == 404


def test_log_session_per_role(world: World) -> None:
    path = f"{P}/pairs/{world.a}/sessions/1"
    assert world.post(path, "other", HELD).status_code == 404
    assert world.store.sessions(world.a) == []

    r = world.post(path, "own", HELD)
    assert r.status_code == 201, r.text
    assert r.json()["side"] == "mentor"
    logged = world.store.sessions(world.a)
    assert [(s.number, s.status, s.date, s.ratings) for s in logged] == [
        (1, "held", dt.date(2026, 1, 12), {"mentor": (4, "useful")})
    ]
    # The mentee of pair B rates as the mentee, whatever the body says.
    r = world.post(f"{P}/pairs/{world.b}/sessions/1", "other", HELD)
    assert r.status_code == 201 and world.store.sessions(world.b)[0].ratings == {"mentee": (4, "useful")}

    # An admin records what happened, but has no side to rate as.
    assert world.post(path, "admin", HELD).status_code == 403
    r = world.post(f"{P}/pairs/{world.a}/sessions/2", "admin", {"status": "cancelled", "date": "2026-01-26"})
    assert r.status_code == 201 and r.json()["side"] is None
    assert len(world.store.sessions(world.a)) == 2


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"status": "held"},
        {**HELD, "rating": 9},
        {**HELD, "rating": 0},
        {**HELD, "status": "postponed"},
        {**HELD, "date": "12/01/2026"},
        {**HELD, "extra": 1},
        {**HELD, "comment": "x" * 2001},
        {"status": "cancelled", "date": "2026-01-12", "rating": 3},
        {"status": "held", "date": "2026-01-12", "comment": "no rating"},
    ],
)
def test_bad_bodies_are_422_and_write_nothing(world: World, body: dict) -> None:
    r = world.post(f"{P}/pairs/{world.a}/sessions/1", "own", body)
    assert r.status_code == 422, (body, r.text)
    assert world.store.sessions(world.a) == []


def test_bad_session_number_is_422(world: World) -> None:
    for n in ("0", "99", "one"):
        assert world.post(f"{P}/pairs/{world.a}/sessions/{n}", "own", HELD).status_code == 422
    assert world.store.sessions(world.a) == []


def test_report_is_for_admins(world: World) -> None:
    assert world.get(f"{P}/report", "own").status_code == 403
    assert world.get(f"{P}/report", "other").status_code == 403
    world.post(f"{P}/pairs/{world.a}/sessions/1", "own", HELD)
    r = world.get(f"{P}/report", "admin")
    assert r.status_code == 200
    rows = {p["id"]: p for p in r.json()["pairs"]}
    assert set(rows) == {world.a, world.b}
    for key in ("sessions_held", "sessions_cancelled", "sessions_planned", "avg_rating_mentor", "avg_rating_mentee"):
        assert key in rows[world.a]
    assert rows[world.a]["sessions_held"] == 1 and rows[world.a]["avg_rating_mentor"] == 4
    assert "program" in r.json()
    actions = [(e.actor, e.action, e.target) for e in world.store.audit_entries()]
    assert ("admin@example.org", "read", "report") in actions


def test_admin_reads_are_audited_participant_reads_are_not(world: World) -> None:
    world.get(f"{P}/pairs/{world.a}/plan", "own")
    assert world.store.audit_entries() == []
    world.get(f"{P}/pairs/{world.a}/plan", "admin")
    assert [(e.actor, e.target) for e in world.store.audit_entries()] == [("admin@example.org", f"pair {world.a}")]


def test_openapi_page_lists_every_route(world: World) -> None:
    assert world.client.get(f"{P}/docs").status_code == 200
    spec = world.client.get(f"{P}/openapi.json").json()
    assert set(spec["paths"]) == {
        "/pairs",
        "/pairs/{pair_id}/plan",
        "/pairs/{pair_id}/sessions/{number}",
        "/pairs/{pair_id}/assessments",
        "/report",
    }


def test_launched_app_serves_the_api_on_its_own_port() -> None:
    """`ui.app.launch()` (the real server, Host check and all): the API answers beside the web page."""
    pytest.importorskip("gradio")
    import socket

    import httpx

    from coach.store import open_store
    from ui import app as ui_app

    store = open_store(load_settings())
    store.add_account("admin@example.org", "Admin", role="admin")
    token = store.issue_token("admin@example.org")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ui_app.launch(port=port, prevent_thread_lock=True, quiet=True)
    try:
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}{P}/pairs", timeout=30).status_code == 401
        r = httpx.get(f"{base}{P}/pairs", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert r.status_code == 200 and r.json() == []
        assert httpx.get(f"{base}{P}/docs", timeout=30).status_code == 200
        assert httpx.get(f"{base}{P}/openapi.json", timeout=30).json()["info"]["title"] == "Mentor Coach API"
        assert httpx.get(f"{base}/", timeout=30).status_code == 200
        # The Host check guards the API too (DNS rebinding).
        assert httpx.get(f"{base}{P}/pairs", headers={"Host": "evil.example"}, timeout=30).status_code == 400
    finally:
        ui_app.demo.close()
