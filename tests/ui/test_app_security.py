"""Security of the launched app: admin views, the file route, inert card text, upload limit, Host check."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from gradio_client.exceptions import AppError
from uiapp import ADMIN_PASSWORD, ROOT

pytestmark = pytest.mark.integration


def test_admin_views_refuse_a_visitor_who_has_not_logged_in(locked_app, client_for) -> None:
    client = client_for(locked_app)
    for endpoint in ("/program", "/evals", "/run_evals"):
        with pytest.raises(AppError, match="Log in as admin"):
            client.predict(api_name=endpoint)
    card = ["my-card", "My card", "generative-ai", "intro", "A summary."] + [""] * 9
    for endpoint in ("/check_card", "/save_card"):
        with pytest.raises(AppError, match="Log in as admin"):
            client.predict(*card, api_name=endpoint)
    refused = client.predict("guess", api_name="/admin_login")
    assert any("password is not right" in str(o) for o in refused)
    with pytest.raises(AppError, match="Log in as admin"):
        client.predict(api_name="/program")


def test_admin_views_open_after_login_for_that_session_only(locked_app, client_for) -> None:
    admin = client_for(locked_app)
    admin.predict(ADMIN_PASSWORD, api_name="/admin_login")
    summary, *_ = admin.predict(api_name="/program")
    assert "No pairs in the program yet" in summary or "pair" in summary
    # Another browser session is still refused.
    visitor = client_for(locked_app)
    with pytest.raises(AppError, match="Log in as admin"):
        visitor.predict(api_name="/program")


def test_file_route_refuses_the_database_home_and_working_directory(open_app, client_for) -> None:
    # Make sure the database exists: the Program view opens it.
    client_for(open_app).predict(api_name="/program")
    db = open_app.home / "coach.db"
    assert db.is_file()
    manifests = [p for p in open_app.home.rglob("*") if p.is_file()]
    targets = [db, manifests[0], ROOT / "pyproject.toml", ROOT / "examples" / "pair.yaml", Path("/etc/passwd")]
    with httpx.Client(base_url=open_app.url, timeout=10) as http:
        for target in targets:
            for path in (f"gradio_api/file={target}", f"gradio_api/file=/tmp/gradio/../../{str(target).lstrip('/')}"):
                r = http.get(path)
                assert r.status_code in {403, 404}, (path, r.status_code)
                assert b"SQLite format" not in r.content


def test_card_markup_is_escaped_before_it_reaches_the_page(open_app, client_for) -> None:
    client = client_for(open_app)
    shown = client.predict("xss-test-card", api_name="/view_card")
    assert "&lt;script&gt;" in shown
    for raw in ("<script", "<img", "<svg", "<iframe", "](javascript:"):
        assert raw not in shown, raw
    _results, picker, _status = client.predict("zzqx-inert-markup", "bm25", [], api_name="/search")
    assert "xss-test-card" in [c[1] for c in picker["choices"]]


def test_oversized_upload_is_rejected_with_a_message(open_app) -> None:
    big = b"x" * (2 * 1024 * 1024)
    with httpx.Client(base_url=open_app.url, timeout=30) as http:
        r = http.post("gradio_api/upload", files={"files": ("pair.yaml", big, "application/x-yaml")})
        assert r.status_code == 413
        assert "maximum allowed size" in r.text
        ok = http.post("gradio_api/upload", files={"files": ("pair.yaml", b"mentor: {}\n", "application/x-yaml")})
        assert ok.status_code == 200


def test_foreign_host_header_is_refused(open_app) -> None:
    with httpx.Client(timeout=10) as http:
        assert http.get(open_app.url).status_code == 200
        r = http.get(open_app.url, headers={"Host": "attacker.example"})
        assert r.status_code == 400


def test_cross_site_origin_gets_no_cors_grant(open_app) -> None:
    with httpx.Client(timeout=10) as http:
        r = http.get(open_app.url + "config", headers={"Origin": "https://attacker.example"})
        assert r.headers.get("access-control-allow-origin") != "https://attacker.example"
