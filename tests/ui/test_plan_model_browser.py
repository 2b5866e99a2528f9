"""The Plan tab with a model at a model's speed (issue 17), in a real browser: sessions appear as they arrive.

The loopback server streams each session's words at 120 tokens a second, two requests at a time,
so the six sessions take several seconds and the page must show them one by one: a progress table
while the model writes, each finished session's text before the last one is done, and at the end
the checked plan with who wrote it. Screenshots go to test-artifacts/ for a person to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fakeserver import FakeOpenAI, Pace, session_from_prompt
from test_app_browser import browser, page  # noqa: F401  (the app browser test's Chromium and 1280x800 page)
from uiapp import ARTIFACTS, RunningApp, launch, stop

pytestmark = pytest.mark.integration


def tailored(out: dict) -> None:
    out["title"] = f"Robert's session {out['number']}"


@pytest.fixture(scope="module")
def paced_app(shared_index_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    with FakeOpenAI(pace=Pace(tokens_per_second=120, ttft=0.3, jitter=0.2, seed=3)) as server:
        server.always(session_from_prompt(tailored))
        env = {
            "COACH_MODEL": "openai:fake-model",
            "OPENAI_BASE_URL": server.url,
            "COACH_MAX_RETRIES": "0",
            # Shorter than one session takes to stream (about 4 s): only silence counts against it.
            "COACH_TIMEOUT": "2",
            "COACH_CONCURRENCY": "2",
        }
        app = launch(tmp_path_factory.mktemp("paced-app"), shared_index_home, None, None, env)
        yield app
        stop(app)


def test_plan_tab_shows_each_session_as_the_model_writes_it(paced_app: RunningApp, page) -> None:  # noqa: F811
    page.goto(paced_app.url)
    page.get_by_role("tab", name="Plan").click()
    page.locator("#fill-example").click()
    page.locator("#upload-msg").get_by_text("Form filled").wait_for()
    page.locator("#generate").click()

    summary = page.locator("#plan-summary")
    summary.get_by_text("Writing the plan with").wait_for(timeout=30_000)
    overview = page.locator("#plan-overview")
    overview.get_by_text("writing").first.wait_for()
    # A session done while others are still being written: its text is on the page already.
    overview.get_by_text("✓ written by the model").first.wait_for(timeout=30_000)
    assert "sessions done" in summary.inner_text()
    assert "Plan ready" not in summary.inner_text()
    sessions = page.locator("#plan-sessions")
    sessions.get_by_text("Robert's session").first.wait_for()
    early = sessions.locator("details.plan-session").count()
    assert 1 <= early < 6, early
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "plan-model-progress.png"), full_page=True)

    summary.get_by_text("Plan ready: 6 sessions").wait_for(timeout=90_000)
    assert sessions.locator("details.plan-session").count() == 6
    for n in range(1, 7):
        sessions.get_by_text(f"Session {n}: Robert's session {n}").wait_for()
    overview.get_by_text("fake-model (openai), every session").wait_for()
    # The finished plan can be downloaded and revised as always.
    assert page.locator("button:has-text('Download JSON')").is_enabled()
    page.screenshot(path=str(ARTIFACTS / "plan-model-done.png"), full_page=True)
