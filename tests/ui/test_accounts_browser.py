"""Three people in three browsers (issue 13): an admin, the mentor of pair A, the senior of pair B.

Each sees only what their role allows; the mentor logs session 1 with a rating and a comment; the
admin reads both in the Program tab; a reload keeps each sign-in (the web-session cookie). Screenshots
go to test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_app_browser import CHROMIUM, TIMEOUT_MS, browser, shot  # noqa: F401 - fixtures reused
from uiapp import ADMIN_PASSWORD, ROOT, RunningApp, launch, stop

pytestmark = pytest.mark.integration

PASSWORD = "a long enough password"
COMMENT = "Great start: we drafted the board summary with ChatGPT"


def _cli(home: Path, *args: str) -> str:
    env = {**os.environ, "COACH_HOME": str(home)}
    done = subprocess.run([sys.executable, "-m", "coach.cli", *args], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _set_password(home: Path, email: str) -> None:
    """Accept the account's invitation link with PASSWORD, as the invited person would."""
    link = _cli(home, "user", "invite", email).strip().splitlines()[-1]
    token = link.rsplit("invite=", 1)[1].strip()
    code = (
        "import sys\nfrom coach.config import load_settings\nfrom coach.store import open_store\n"
        "open_store(load_settings()).accept_link(sys.argv[1], sys.argv[2])\n"
    )
    env = {**os.environ, "COACH_HOME": str(home)}
    subprocess.run([sys.executable, "-c", code, token, PASSWORD], env=env, check=True)


@pytest.fixture(scope="module")
def program(shared_index_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningApp, str, str]]:
    """The app with an admin password and two stored pairs, each with one participant account."""
    tmp = tmp_path_factory.mktemp("accounts-app")
    app = launch(tmp, shared_index_home, ADMIN_PASSWORD, None)
    try:
        pair_b = yaml.safe_load((ROOT / "examples" / "pair.yaml").read_text())
        pair_b["mentor"]["name"], pair_b["mentee"]["name"] = "Sam Okafor", "Helen Marsh"
        b_file = tmp / "pair-b.yaml"
        b_file.write_text(yaml.safe_dump(pair_b))
        a_id = _cli(app.home, "pair", "add", str(ROOT / "examples" / "pair.yaml")).split()[-1]
        b_id = _cli(app.home, "pair", "add", str(b_file)).split()[-1]
        _cli(app.home, "cohort", "plan")
        _cli(app.home, "user", "add", "priya@example.org", "--name", "Priya Shah", "--pair", a_id, "--side", "mentor")
        _cli(app.home, "user", "add", "helen@example.org", "--name", "Helen Marsh", "--pair", b_id, "--side", "mentee")
        for email in ("priya@example.org", "helen@example.org"):
            _set_password(app.home, email)
        yield app, a_id, b_id
    finally:
        stop(app)


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:  # noqa: F811 - the browser fixture imported above
    made: list[Any] = []

    def new() -> Any:
        ctx = browser.new_context(viewport={"width": 1280, "height": 800})
        made.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        return page

    yield new
    for ctx in made:
        ctx.close()


def _until(check: Any, seconds: float = 60) -> None:
    """Wait until `check()` holds (the page updates after the server answers)."""
    import time

    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the page did not show it in time"
        time.sleep(0.25)


def _sign_in(page: Any, url: str, email: str) -> None:
    page.goto(url)
    page.get_by_role("tab", name="My pairs").click()
    page.locator("#signin-email textarea, #signin-email input").first.fill(email)
    page.locator("#signin-password input").fill(PASSWORD)
    page.locator("#signin").click()
    page.get_by_text("Signed in as").first.wait_for()
    _has_cookie(page)


def _admin_sign_in(page: Any, url: str) -> None:
    """Open the Program tab and sign in with the admin password."""
    page.goto(url)
    page.get_by_role("tab", name="Program (admin)").click()
    page.locator("#tab-program input[type=password]").fill(ADMIN_PASSWORD)
    page.locator("#tab-program").get_by_role("button", name="Log in").click()


def _has_cookie(page: Any) -> None:
    """The page has posted its new sign-in to /auth/adopt: the browser holds the HttpOnly cookie."""
    from ui.web_session import COOKIE

    _until(lambda: any(c["name"] == COOKIE and c["httpOnly"] for c in page.context.cookies()))


def test_three_people_each_see_what_their_role_allows(program: tuple[RunningApp, str, str], context: Any) -> None:
    app, _a_id, _b_id = program

    # The mentor of pair A: their own pair only, with its plan; logs session 1 for their side.
    mentor = context()
    _sign_in(mentor, app.url, "priya@example.org")
    plan = mentor.locator("#my-plan")
    plan.get_by_text("Session 1").first.wait_for()
    _until(lambda: "Robert Klein" in mentor.locator("#my-pair input").input_value())
    mentor.locator("#my-pair input").click()  # the choices offered: pair A only
    offered = mentor.get_by_role("listbox").inner_text()
    assert "Robert Klein" in offered and "Helen Marsh" not in offered
    mentor.keyboard.press("Escape")
    mentor.locator("#log-rating input").click()
    mentor.get_by_role("option", name="5", exact=True).click()
    mentor.locator("#log-comment textarea").fill(COMMENT)
    mentor.locator("#log-session").click()
    mentor.locator("#log-msg").get_by_text("Logged session 1").wait_for()
    assert COMMENT[:20] in mentor.locator("#my-history").inner_text()
    shot(mentor, "accounts-mentor")
    # The admin tabs stay closed to a participant.
    mentor.get_by_role("tab", name="Program (admin)").click()
    assert not mentor.locator("#program-panel").is_visible()

    # A reload keeps the sign-in and the plan (the cookie names a session in the database).
    mentor.reload()
    mentor.get_by_role("tab", name="My pairs").click()
    mentor.locator("#my-plan").get_by_text("Session 1").first.wait_for()
    assert "Signed in as **Priya Shah**" not in mentor.content()  # rendered, not raw Markdown
    mentor.get_by_text("Signed in as").first.wait_for()

    # The senior of pair B: only pair B; nothing of pair A's log.
    senior = context()
    _sign_in(senior, app.url, "helen@example.org")
    senior.locator("#my-plan").get_by_text("Session 1").first.wait_for()
    _until(lambda: "Helen Marsh" in senior.locator("#my-pair input").input_value())
    senior.locator("#my-pair input").click()
    offered = senior.get_by_role("listbox").inner_text()
    assert "Helen Marsh" in offered and "Robert Klein" not in offered
    senior.keyboard.press("Escape")
    assert COMMENT[:20] not in senior.content()
    shot(senior, "accounts-senior")

    # The admin: the password, then the mentor's rating and comment in the Program tab, after a reload too.
    admin = context()
    _admin_sign_in(admin, app.url)
    notes = admin.locator("#program-notes")
    _until(lambda: COMMENT[:20] in notes.inner_text())
    assert "5/5" in notes.inner_text()
    _has_cookie(admin)
    admin.reload()
    admin.get_by_role("tab", name="Program (admin)").click()
    _until(lambda: COMMENT[:20] in admin.locator("#program-notes").inner_text())
    shot(admin, "accounts-admin")

    # Logging out ends the mentor's session: a reload shows the sign-in form again.
    mentor.locator("#logout").click()
    mentor.locator("#signin").wait_for(state="visible")
    mentor.reload()
    mentor.get_by_role("tab", name="My pairs").click()
    mentor.locator("#signin").wait_for(state="visible")
    assert not mentor.locator("#my-plan").is_visible()


def test_a_senior_fills_in_the_baseline_and_the_admin_sees_it(
    program: tuple[RunningApp, str, str], context: Any
) -> None:
    """Issue 15: the senior of pair B rates their comfort before session 1; the Program tab shows it."""
    app, _a_id, _b_id = program
    senior = context()
    _sign_in(senior, app.url, "helen@example.org")
    senior.locator("#assessment-form").get_by_text("Your assessment").first.click()
    senior.locator("#assessment-due").get_by_text("baseline", exact=False).first.wait_for()
    for domain, level in (("generative-ai", "1: "), ("collaboration-tools", "2: ")):
        senior.locator(f"#assess-comfort-{domain} input").click()
        senior.get_by_role("option").filter(has_text=level).first.click()
    senior.locator("#assessment-save").click()
    _until(lambda: "Saved your baseline assessment" in senior.locator("#assessment-msg").inner_text())
    shot(senior, "accounts-senior-baseline")

    admin = context()
    _admin_sign_in(admin, app.url)
    health = admin.locator("#program-health")
    _until(lambda: "Generative AI 1" in health.inner_text())
    assert "Collaboration tools (Slack, Teams) 2" in health.inner_text()
    assert "Helen Marsh" in health.inner_text()
    health.scroll_into_view_if_needed()
    shot(admin, "accounts-admin-baseline")
