"""The Match view in a real browser (issue 14): sign in as admin, upload a people file, see the pairs with their
reasons, lock a pair, re-run with the lock kept, publish, and find the pairs in the Program tab.

Screenshots are saved to test-artifacts/match-*.png for a person to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from test_app_browser import browser, page, shot  # noqa: F401  (the app browser test's Chromium and 1280x800 page)
from uiapp import ADMIN_PASSWORD, ARTIFACTS

pytestmark = pytest.mark.integration

PEOPLE = {
    "cohort": "autumn-2027",
    "program": {"sessions": 3, "minutes": 45, "cadence": "weekly", "start": "2027-09-06"},
    "people": [
        {"id": "j1", "name": "Ana Diaz", "role": "Finance Analyst", "side": "junior", "capacity": 2,
         "strengths": ["prompting ChatGPT", "Copilot in Excel"], "goals": ["learn how budgets are decided"]},
        {"id": "j2", "name": "Ben Ito", "role": "Social Media Coordinator", "side": "junior",
         "strengths": ["TikTok trends", "Instagram Reels"]},
        {"id": "s1", "name": "Cara Moss", "role": "Chief Financial Officer", "side": "senior",
         "goals": ["use generative AI to draft board reports"], "comfort": {"generative-ai": 1},
         "strengths": ["budget negotiations"]},
        {"id": "s2", "name": "Dev Shah", "role": "Chief Marketing Officer", "side": "senior",
         "goals": ["understand TikTok and short video"], "comfort": {"social-media": 1}},
        {"id": "s3", "name": "Eve Lang", "role": "Chief Operating Officer", "side": "senior",
         "goals": ["write emails faster with AI"], "do_not_pair": ["j2"]},
    ],
}  # fmt: skip


def choose(page, elem_id: str, option: str) -> None:  # noqa: F811
    """Pick `option` in a Gradio dropdown."""
    page.locator(f"#{elem_id} input").first.click()
    page.get_by_role("option", name=option).first.click()


def pair_summary(page, senior: str) -> str:  # noqa: F811
    """The one-line summary of the proposed pair of `senior`."""
    return page.locator("#match-pairs summary").filter(has_text=senior).first.inner_text()


def test_match_lock_rerun_publish_then_program(locked_app, page, tmp_path: Path) -> None:  # noqa: F811
    from playwright.sync_api import expect

    people = tmp_path / "autumn people.yaml"
    people.write_text(yaml.safe_dump(PEOPLE, sort_keys=False), encoding="utf-8")

    page.goto(locked_app.url)
    page.get_by_role("tab", name="Match (admin)").click()
    assert not page.locator("#match-panel").is_visible()
    page.get_by_label("Admin password").last.fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").last.click()
    page.locator("#match-panel").wait_for(state="visible")

    # Upload and match: every pair with its score and reasons, in names and plain words.
    page.locator("#match-file input[type=file]").set_input_files(str(people))
    page.locator("#match-run").click()
    page.locator("#match-summary").get_by_text("3 of 3 senior leaders matched").wait_for()
    assert "Cara Moss" in pair_summary(page, "Cara Moss") and "score" in pair_summary(page, "Cara Moss")
    first = page.locator("#match-pairs details").first
    assert "points: teaches a goal" in first.inner_text() and 'the card "' in first.inner_text()
    assert "Ben Ito" not in pair_summary(page, "Eve Lang")  # Eve asked not to be paired with Ben
    page.locator("#match-msg").scroll_into_view_if_needed()
    shot(page, "match-proposed")

    # Lock a proposed pair; re-run with other weights: the lock is kept and marked.
    proposed = pair_summary(page, "Dev Shah")
    mentor = "Ben Ito" if "Ben Ito" in proposed else "Ana Diaz"
    choose(page, "match-lock-pick", f"Dev Shah with {mentor}")
    page.locator("#match-lock").click()
    page.locator("#match-locks").get_by_text(f"Dev Shah with {mentor}").wait_for()
    choose(page, "match-weight-learns", "Off")
    page.locator("#match-rerun").click()
    page.locator("#match-msg").get_by_text("1 locked pair kept").wait_for()
    kept = pair_summary(page, "Dev Shah")
    assert mentor in kept and "locked by you" in kept, kept
    assert "locked" not in pair_summary(page, "Cara Moss")
    page.locator("#match-msg").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "match-locked-full.png"), full_page=True)

    # Publish into the cohort: stored, planned, and shown in the Program tab.
    page.locator("#match-publish").click()
    page.locator("#match-publish-msg").get_by_text("Published 3 pairs").wait_for(timeout=300_000)
    shot(page, "match-published")
    page.get_by_role("tab", name="Program (admin)").click()
    program = page.locator("#program-panel")
    program.get_by_text("3 pairs").first.wait_for()
    for name in ("Cara Moss", "Dev Shah", "Eve Lang", mentor):
        expect(program).to_contain_text(name)
    shot(page, "match-program")
    assert page.dialogs == []  # type: ignore[attr-defined]


def test_a_bad_people_file_is_named_in_the_match_view(open_app, page, tmp_path: Path) -> None:  # noqa: F811
    bad = tmp_path / "broken.csv"
    bad.write_text("id,name,role,side\nj1,Ana Diaz,Analyst,mentor\n", encoding="utf-8")
    page.goto(open_app.url)
    page.get_by_role("tab", name="Match (admin)").click()
    page.locator("#match-file input[type=file]").set_input_files(str(bad))
    page.locator("#match-run").click()
    message = page.locator("#match-msg")
    message.get_by_text("broken.csv").first.wait_for()
    assert "side" in message.inner_text() and "Traceback" not in message.inner_text()
    shot(page, "match-bad-file")
