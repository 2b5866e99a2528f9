"""The Coach tab in a real browser: a two-turn conversation that remembers, and the empty question answered in place."""

from __future__ import annotations

import re

import pytest
from test_app_browser import browser, page, shot  # noqa: F401  (fixtures shared with the app's browser test)

pytestmark = pytest.mark.integration
#: The lesson answer's heading ("A 30-minute lesson on Prompting ..., for a senior leader"); the question
#: "build me a 30-minute lesson on prompting" has no ", for a", so only the answer matches.
HEADING_30 = re.compile(r"A 30-minute lesson on .+, for a ")


def ask(page, question: str) -> None:  # noqa: F811
    box = page.locator("#coach-input textarea, #coach-input input").first
    box.fill(question)
    box.press("Enter")


def test_the_empty_question_and_a_lesson(open_app, page) -> None:  # noqa: F811
    page.goto(open_app.url)
    page.get_by_text("Mentor Coach").first.wait_for()
    # The example questions speak as the person asking: the senior's mentor cancels, the junior's mentee.
    chips = page.locator(".coach-example")
    chips.get_by_text("my mentor keeps cancelling").wait_for()
    page.locator("#coach-role").get_by_text("Junior mentor").click()
    chips.get_by_text("my mentee keeps cancelling").wait_for()
    assert chips.get_by_text("my mentor keeps cancelling").count() == 0

    # The empty question: a gentle note in the chat, no red error badge, no traceback in the server log.
    page.locator("#coach-send").click()
    chat = page.locator("#coach-chat")
    chat.get_by_text("Type a question first").wait_for()
    assert page.locator(".toast-body.error, .error").count() == 0
    assert "Traceback" not in open_app.log.read_text(errors="replace")

    ask(page, "build me a 30-minute lesson on prompting for my mentee")
    chat.get_by_text(HEADING_30).wait_for()  # the answer's heading, not the question
    assert "Traceback" not in open_app.log.read_text(errors="replace")


def test_a_follow_up_builds_on_the_previous_answer(open_app, page) -> None:  # noqa: F811
    page.goto(open_app.url)
    page.get_by_text("Mentor Coach").first.wait_for()
    page.locator("#coach-role").get_by_text("Junior mentor").click()
    chat = page.locator("#coach-chat")
    ask(page, "build me a 30-minute lesson on prompting for my mentee")
    chat.get_by_text(HEADING_30).wait_for()  # the answer's heading, not the question
    page.set_default_timeout(30_000)
    ask(page, "can you make that shorter? 15 min")
    chat.get_by_text("A 15-minute lesson").wait_for()
    text = chat.inner_text()
    # The follow-up built on the first answer: the same card, at the new length.
    assert text.count("Prompting chat assistants for everyday work") >= 2
    shot(page, "coach-two-turns")
    assert "Traceback" not in open_app.log.read_text(errors="replace")


def test_shorter_in_bullets_then_a_near_miss_is_refused(open_app, page) -> None:  # noqa: F811
    page.goto(open_app.url)
    page.get_by_text("Mentor Coach").first.wait_for()
    page.set_default_timeout(30_000)
    chat = page.locator("#coach-chat")
    ask(page, "how do I read the funnel chart the product team keeps showing me")
    chat.get_by_text("Funnels, cohorts and retention").first.wait_for()
    ask(page, "shorter pls, 3 bullets")
    chat.get_by_text("in 3 points").wait_for()  # the same card, in three points
    # A near miss: the cards talk about growth rates and dashboards, but none teaches DAX, and the coach
    # writes no code: it says so, who can help, and which card came nearest.
    ask(page, "can you write me a DAX measure for year over year sales growth")
    chat.get_by_text("I don't write code").wait_for()
    chat.get_by_text("The nearest card is").wait_for()
    shot(page, "coach-brief-and-near-miss")
    assert "Traceback" not in open_app.log.read_text(errors="replace")
