"""A real browser (Debian's Chromium driven by Playwright): fill the plan form, see session 1, open every tab.

Screenshots of each tab at 1280x800 are saved to test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from uiapp import ARTIFACTS, require

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def browser():
    require("Chromium at /usr/bin/chromium", Path(CHROMIUM).exists() or shutil.which("chromium") is not None)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs  # type: ignore[attr-defined]
    yield pg
    context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def log_session(home: Path, pair_id: str, args: list[str]) -> None:
    env = {**os.environ, "COACH_HOME": str(home)}
    subprocess.run(
        [sys.executable, "-m", "coach.cli", "session", "log", pair_id, *args], env=env, check=True, capture_output=True
    )


def fill(page, elem_id: str, value: str) -> None:
    page.locator(f"#{elem_id} textarea, #{elem_id} input").first.fill(value)


def test_plan_form_generates_session_one_and_every_tab_opens(open_app, page) -> None:
    page.goto(open_app.url)
    page.get_by_text("Mentor Coach").first.wait_for()
    page.get_by_role("button", name="Explain hallucinations simply").click()
    page.locator("#coach-chat").get_by_text("Source:").last.wait_for()
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "tab-coach")

    page.get_by_role("tab", name="Plan").click()
    # A first try with mistakes: each problem appears next to its own field, in plain words.
    fill(page, "start", "12/01/2026")
    page.locator("#generate").click()
    page.locator("#plan-summary").get_by_text("Please fix").wait_for()
    assert "2026-01-12" in page.locator("#err-start").inner_text()
    assert "senior leader's name" in page.locator("#err-mentee_name").inner_text()
    assert "at least one goal" in page.locator("#err-goals").inner_text()
    assert not page.locator("#err-sessions").is_visible()
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "tab-plan-errors")
    fill(page, "mentor-name", "Priya Shah")
    fill(page, "mentor-role", "Data Analyst")
    fill(page, "mentee-name", "Robert Klein")
    fill(page, "mentee-role", "Chief Financial Officer")
    fill(page, "goals", "use generative AI to draft board reports safely\nunderstand how Gen Z customers choose brands")
    fill(page, "start", "2026-01-12")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "tab-plan-form")
    page.locator("#generate").click()
    page.locator("#plan-sessions").get_by_text("Session 1:").first.wait_for()
    assert not page.locator("#err-start").is_visible()
    assert page.locator("#plan-overview").get_by_text("Robert Klein").count() > 0
    page.locator("#plan-sessions").get_by_text("Session 1:").first.scroll_into_view_if_needed()
    shot(page, "tab-plan-result")

    page.get_by_role("tab", name="Knowledge").click()
    fill(page, "kb-query", "phishing")
    page.locator("#kb-search").click()
    page.locator("#kb-card h2").first.wait_for()
    # Clicking a result opens that card (the second result, whichever it is today).
    from gradio_client import Client

    api = Client(open_app.url, verbose=False, analytics_enabled=False)
    try:
        second_title = api.predict("phishing", "hybrid", [], api_name="/search")[0]["data"][1][1]
    finally:
        api.close()
    page.locator("#kb-results").get_by_text(second_title, exact=True).first.click()
    page.locator("#kb-card h2").get_by_text(second_title).wait_for()
    shot(page, "tab-knowledge")

    page.get_by_role("tab", name="Program (admin)").click()
    page.get_by_text("No pairs in the program yet").first.wait_for()
    shot(page, "tab-program-empty")

    # Save the plan's pair to the program, log what happened with the CLI, and see it in the Program tab.
    page.get_by_role("tab", name="Plan").click()
    page.get_by_role("button", name="Save to program").click()
    saved = page.get_by_text("Saved: pair").first
    saved.wait_for()
    pair_id = re.search(r"pair ([0-9a-f]{6,32})", saved.inner_text())
    assert pair_id, saved.inner_text()
    for args in (
        ["1", "--status", "held", "--date", "2026-01-12", "--rating-mentor", "4", "--rating-mentee", "5"],
        ["2", "--status", "held", "--date", "2026-01-26", "--rating-mentor", "5", "--rating-mentee", "4"],
        ["3", "--status", "cancelled", "--date", "2026-02-09"],
    ):
        log_session(open_app.home, pair_id.group(1), args)
    page.get_by_role("tab", name="Program (admin)").click()
    page.locator("#program-panel").get_by_role("button", name="Refresh").click()
    page.locator("#program-panel").get_by_text("Stalled").first.wait_for()
    page.locator("#program-panel .js-plotly-plot").first.wait_for()
    shot(page, "tab-program")

    page.get_by_role("tab", name="Evals (admin)").click()
    page.locator("#evals-summary").wait_for()
    assert page.locator("#evals-summary").inner_text().strip()
    shot(page, "tab-evals-empty")
    from ui.evals_tab import suite_available

    if suite_available():
        page.get_by_role("button", name="Run the offline suite").click()
        # The whole offline suite (1,522 cases with five blind sets) behind a progress bar: a bound, not a timing.
        page.locator("#evals-summary").get_by_text("Latest run").wait_for(timeout=600_000)
        page.locator("#evals-panel .js-plotly-plot").first.wait_for()
        assert page.locator("#evals-panel .js-plotly-plot").count() == 2
        shot(page, "tab-evals")
    assert page.dialogs == []  # type: ignore[attr-defined]


def test_card_markup_stays_inert_in_the_browser(open_app, page) -> None:
    page.goto(open_app.url + "?card=xss-test-card")
    card = page.locator("#kb-card")
    card.get_by_text("window.__xss = 1").first.wait_for()
    shot(page, "card-with-markup")
    assert card.locator("script, img, svg, iframe").count() == 0
    assert page.evaluate("window.__xss") is None
    assert page.dialogs == []  # type: ignore[attr-defined]
    hrefs = card.locator("a").evaluate_all("els => els.map(e => e.getAttribute('href') || '')")
    assert not any(h.lower().startswith("javascript:") for h in hrefs)
    # The card a link opened is the one "Edit this card" loads.
    page.locator("#kb-edit").get_by_text("Add or edit a card (admins)").click()
    page.get_by_role("button", name="Edit this card").click()
    page.locator("#kb-edit").get_by_text("Editing").first.wait_for()
    assert "xss-test-card" in page.locator("#kb-edit input, #kb-edit textarea").first.input_value()


def test_admin_tabs_ask_for_the_password_and_open_after_login(locked_app, page) -> None:
    from uiapp import ADMIN_PASSWORD

    page.goto(locked_app.url)
    page.get_by_role("tab", name="Program (admin)").click()
    password = page.get_by_label("Admin password").first
    password.wait_for()
    assert not page.locator("#program-panel").is_visible()
    shot(page, "tab-program-locked")
    password.fill("not the password")
    page.get_by_role("button", name="Log in").first.click()
    page.get_by_text("password is not right").first.wait_for()
    assert not page.locator("#program-panel").is_visible()
    password.fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").first.click()
    page.locator("#program-panel").wait_for(state="visible")
    page.get_by_role("tab", name="Evals (admin)").click()
    page.locator("#evals-panel").wait_for(state="visible")
