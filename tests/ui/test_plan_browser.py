"""The plan page in a real browser at 1280x800 (issue 12): the revise box beside the plan, time cells on one line,
sessions that open on a click so the page stays short.

A screenshot is saved to test-artifacts/plan-page-1280.png for a person to look at.
"""

from __future__ import annotations

import pytest
from test_app_browser import browser, page  # noqa: F401  (the app browser test's Chromium and 1280x800 page)
from uiapp import ARTIFACTS

pytestmark = pytest.mark.integration

#: Before issue 12 the plan page was about 9,500 px tall with every session spelled out.
MAX_PAGE_HEIGHT = 6_000


#: For every agenda table's first cell (the time) in the open sessions: how many line boxes its text takes.
_TIME_CELL_LINES = """
() => Array.from(document.querySelectorAll('#plan-sessions details[open] table tbody tr td:first-child')).map(td => {
    const range = document.createRange();
    range.selectNodeContents(td);
    const tops = new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top)));
    return [td.innerText, tops.size];
})
"""
#: For the "Who leads" cells and header: how many line boxes, and how many words (a name may wrap between words only).
_LEAD_CELL_LINES = """
() => Array.from(document.querySelectorAll('#plan-sessions details[open] table tr > :last-child')).map(td => {
    const range = document.createRange();
    range.selectNodeContents(td);
    const tops = new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top)));
    return [td.innerText, tops.size, td.innerText.trim().split(/\\s+/).length];
})
"""


def box(page, selector: str) -> dict[str, float]:  # noqa: F811
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not on the page"
    return found


def test_plan_page_at_1280_has_the_revise_box_beside_the_plan(open_app, page) -> None:  # noqa: F811
    page.goto(open_app.url)
    page.get_by_role("tab", name="Plan").click()
    page.locator("#fill-example").click()
    page.locator("#upload-msg").get_by_text("Form filled").wait_for()
    # Nothing to regenerate before there is a plan; the button comes alive with the first one.
    assert page.locator("#regenerate").is_disabled()
    page.locator("#generate").click()
    page.locator("#plan-sessions").get_by_text("Session 1:").first.wait_for()
    page.wait_for_function("!document.querySelector('#regenerate').disabled")

    plan, revise = box(page, "#plan-sessions"), box(page, "#revise-box")
    # Beside, not below: the revise box starts right of the plan and level with its top.
    assert revise["x"] >= plan["x"] + plan["width"] - 2, (plan, revise)
    assert abs(revise["y"] - plan["y"]) < 200, (plan, revise)

    # Time cells stay on one line ("0:19 (8 min)", never "0:1/9" or "St/ar/t").
    cells = page.evaluate(_TIME_CELL_LINES)
    assert cells, "no agenda table is open"
    wrapped = [text for text, lines in cells if lines != 1]
    assert not wrapped, wrapped
    # "Who leads" never breaks inside a word ("Priy/a Shah", "lead/s" were seen at 1280 px).
    leads = page.evaluate(_LEAD_CELL_LINES)
    assert leads, "no agenda table is open"
    broken = [text for text, lines, words in leads if lines > words]
    assert not broken, broken
    header = page.locator("#plan-sessions details[open] table thead th").first
    assert header.inner_text().strip() == "When"

    # Sessions open on a click: only the first is open, and the page is short.
    assert page.locator("#plan-sessions details.plan-session").count() == 6
    assert page.locator("#plan-sessions details.plan-session[open]").count() == 1
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < MAX_PAGE_HEIGHT, height
    page.locator("#plan-sessions summary").nth(2).click()
    assert page.locator("#plan-sessions details.plan-session[open]").count() == 2

    # The box works where it is: a change in words, applied offline.
    page.locator("#revise-text textarea, #revise-text input").first.fill("make session 2 about Teams")
    page.locator("#revise").click()
    page.locator("#revise-msg").get_by_text("session 2 is now about Microsoft Teams").wait_for()
    page.locator("#plan-sessions").get_by_text("Session 2: Microsoft Teams").first.wait_for()

    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#plan-sessions").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "plan-page-1280.png"))
