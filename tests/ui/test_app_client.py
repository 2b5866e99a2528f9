"""The launched app through gradio_client: streamed cited chat, plans from the form, field errors, downloads."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from coach.checks import check_plan
from coach.knowledge import load_knowledge
from coach.models import Pair, Plan
from ui.forms import SLOTS

pytestmark = pytest.mark.integration

LINK = re.compile(r"\[([a-z0-9-]+)\]\(\?card=([a-z0-9-]+)\)")

FORM: dict[str, Any] = {
    "mentor_name": "Priya Shah",
    "mentor_role": "Data Analyst",
    "strengths": "prompting chat assistants\nPower BI dashboards",
    "mentee_name": "Robert Klein",
    "mentee_role": "Chief Financial Officer",
    "goals": "use generative AI to draft board reports safely\nunderstand how Gen Z customers choose brands",
    "comfort_generative_ai": 1,
    "comfort_consumer_trends": 3,
    "comfort_collaboration_tools": 3,
    "comfort_social_media": 2,
    "comfort_digital_workflow": 3,
    "comfort_data_literacy": 3,
    "comfort_cybersecurity_privacy": 3,
    "sessions": 6,
    "minutes": 45,
    "cadence": "biweekly",
    "start": "2026-01-12",
}
N_ERR = len(SLOTS)


def text_of(message: dict[str, Any]) -> str:
    """A chatbot message's text (Gradio 6 sends content as a list of parts)."""
    content = message["content"]
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


def pair_from_form() -> Pair:
    goals = FORM["goals"].splitlines()
    return Pair.model_validate(
        {
            "mentor": {
                "name": FORM["mentor_name"],
                "role": FORM["mentor_role"],
                "strengths": FORM["strengths"].splitlines(),
            },
            "mentee": {
                "name": FORM["mentee_name"],
                "role": FORM["mentee_role"],
                "goals": goals,
                "comfort": {
                    "generative-ai": 1,
                    "consumer-trends": 3,
                    "collaboration-tools": 3,
                    "social-media": 2,
                    "digital-workflow": 3,
                    "data-literacy": 3,
                    "cybersecurity-privacy": 3,
                },
            },
            "program": {"sessions": 6, "minutes": 45, "cadence": "biweekly", "start": "2026-01-12"},
        }
    )


def test_chat_streams_an_answer_with_card_links(open_app, client_for) -> None:
    kb = load_knowledge(open_app.kb_dirs)
    client = client_for(open_app)
    job = client.submit("Explain phishing simply", [], "mentee", "none", api_name="/chat")
    history, cleared, sources = job.result(timeout=120)
    steps = job.outputs()
    # Streamed: the answer grew over several updates before the final one.
    texts = [text_of(out[0][-1]) for out in steps if out[0]]
    assert len(texts) >= 3, texts
    assert len(texts[1]) < len(texts[-1])
    final = text_of(history[-1])
    assert history[-1]["role"] == "assistant"
    links = LINK.findall(final)
    assert links, final
    for shown, target in links:
        assert shown == target
        assert kb.get(target) is not None, target
    assert cleared == ""
    cited = [c[1] for c in sources["choices"]]
    assert sources["value"] in cited and all(kb.get(c) for c in cited)


def test_question_the_cards_do_not_cover_says_so(open_app, client_for) -> None:
    client = client_for(open_app)
    history, _, sources = client.predict(
        "What is the best recipe for sourdough bread?", [], "mentee", "none", api_name="/chat"
    )
    final = text_of(history[-1])
    assert "no card" in final.lower()
    assert not LINK.findall(final)
    assert not sources["choices"]


def test_form_gives_a_valid_plan_and_parseable_downloads(open_app, client_for) -> None:
    from docx import Document
    from icalendar import Calendar

    client = client_for(open_app)
    out = client.predict(**FORM, api_name="/generate_plan")
    summary, errors = out[0], out[1 : 1 + N_ERR]
    overview, sessions_md, which = out[1 + N_ERR], out[2 + N_ERR], out[3 + N_ERR]
    md_file, json_file, ics_file, docx_file = (d["value"] for d in out[4 + N_ERR : 8 + N_ERR])
    assert all(not e["visible"] for e in errors)
    assert "6 sessions" in summary
    assert "Robert Klein" in overview and "Priya Shah" in overview
    assert "### Session 1:" in sessions_md and "### Session 6:" in sessions_md
    assert [c[1] for c in which["choices"]] == ["The whole plan", *[f"Session {i}" for i in range(1, 7)]]

    plan = Plan.model_validate(json.loads(Path(json_file).read_text(encoding="utf-8")))
    kb = load_knowledge(open_app.kb_dirs)
    assert check_plan(plan, pair_from_form(), kb) == []
    assert Path(md_file).read_text(encoding="utf-8").startswith("# Reverse-mentoring plan: Robert Klein")

    cal = Calendar.from_ical(Path(ics_file).read_bytes())
    events = cal.walk("VEVENT")
    assert len(events) == 6
    assert [e.decoded("dtstart") for e in events] == [s.date for s in plan.sessions]

    doc = Document(docx_file)
    headings = [p.text for p in doc.paragraphs if p.style is not None and p.style.name.startswith(("Heading", "Title"))]
    assert any("Robert Klein" in h for h in headings)
    assert sum(h.startswith("Session ") for h in headings) == 6


def test_plan_outputs_are_wired_to_the_components_they_fill(open_app) -> None:
    import httpx

    config = httpx.get(open_app.url + "config", timeout=10).json()
    ids = {c["id"]: c["props"].get("elem_id") for c in config["components"]}
    dep = next(d for d in config["dependencies"] if d.get("api_name") == "generate_plan")
    named = [ids[o] for o in dep["outputs"] if ids[o]]
    assert named[: 1 + N_ERR] == ["plan-summary", *[f"err-{s}" for s in SLOTS]]
    assert named[1 + N_ERR : 3 + N_ERR] == ["plan-overview", "plan-sessions"]


def test_bad_form_shows_plain_words_next_to_the_fields(open_app, client_for) -> None:
    client = client_for(open_app)
    bad = {**FORM, "mentee_name": "", "goals": "   ", "start": "12/01/2026", "minutes": 500}
    out = client.predict(**bad, api_name="/generate_plan")
    errors = dict(zip(SLOTS, out[1 : 1 + N_ERR], strict=True))
    shown = {slot for slot, e in errors.items() if e["visible"]}
    assert shown == {"mentee_name", "goals", "start", "minutes"}
    assert "senior leader's name" in errors["mentee_name"]["value"]
    assert "2026-01-12" in errors["start"]["value"]
    assert "15 and 180" in errors["minutes"]["value"]
    for slot in shown:
        text = errors[slot]["value"].lower()
        assert not any(
            jargon in text for jargon in ("pydantic", "string_too_short", "validation error", "input should")
        )
    assert "fix 4 things" in out[0]


def test_revise_one_session_offline(open_app, client_for) -> None:
    client = client_for(open_app)
    client.predict(**FORM, api_name="/generate_plan")
    msg, _overview, sessions_md, _which, *_ = client.predict("Session 3", "30 minutes shorter", api_name="/revise_plan")
    assert msg.startswith("Done"), msg
    third = sessions_md.split("### Session 3:")[1].split("### Session 4:")[0]
    assert "15 minutes" in third
    refused, *_ = client.predict("Session 2", "make it about underwater basket weaving", api_name="/revise_plan")
    assert "unchanged" in refused or "could not read" in refused


def test_evals_tab_runs_the_offline_suite_and_shows_scores(open_app, client_for) -> None:
    from ui.evals_tab import suite_available

    if not suite_available():
        pytest.skip("the eval suite (coach.evaluate) is not in this version of the code")
    client = client_for(open_app)
    text, latest, chart, trend, fails = client.predict(api_name="/run_evals")[:5]
    assert text.startswith("Latest run")
    assert latest["visible"] and latest["value"]["data"][0][0] == "offline"
    assert chart["visible"] and chart["value"]["type"] == "plotly"
    assert trend["visible"]
    evaluators = json.loads(chart["value"]["plot"])["data"][0]["x"]
    assert "structure" in evaluators
    rows = fails["value"]["data"] if fails.get("value") else []
    assert all(len(r) == 4 and r[3] for r in rows)


NEW_CARD = [
    "ui-test-spreadsheet-pivots",
    "Pivot tables for quarterly numbers",
    "data-literacy",
    "intro",
    "How to summarise a quarter of sales with a pivot table in minutes, without formulas.",
    "Build a pivot table from a sales export\nRead a pivot table's totals correctly",
    "Pivot table: a summary that groups rows and adds them up\nFilter: a way to show only some rows",
    "15 | hands-on | mentor | Build one together | The mentor builds a pivot of last quarter's sales by region.",
    "mentee | Which numbers do you rebuild by hand every quarter?",
    "Summing a column that already holds subtotals",
    "Bring last quarter's sales export",
    "tool | Microsoft Excel | PivotTable",
    "",
    "pivot, spreadsheets, quarterly-numbers-zzpivot",
]


def test_new_card_is_checked_saved_and_searchable(open_app, client_for) -> None:
    client = client_for(open_app)
    bad = list(NEW_CARD)
    bad[7] = "fifteen minutes of building"
    bad[12] = "no-such-card"
    problems = client.predict(*bad, api_name="/check_card")
    assert "needs fixing" in problems and "activities" in problems and "prerequisites" in problems
    assert "passes every check" in client.predict(*NEW_CARD, api_name="/check_card")
    message, card_view = client.predict(*NEW_CARD, api_name="/save_card")
    assert message.startswith("Saved"), message
    assert "Pivot tables for quarterly numbers" in card_view
    saved = open_app.kb_dirs[-1] / "data-literacy" / "ui-test-spreadsheet-pivots.yaml"
    assert saved.is_file()
    assert load_knowledge(open_app.kb_dirs).get("ui-test-spreadsheet-pivots") is not None
    _, picker, _ = client.predict("quarterly-numbers-zzpivot pivot", "hybrid", [], api_name="/search")
    assert picker["choices"][0][1] == "ui-test-spreadsheet-pivots"
