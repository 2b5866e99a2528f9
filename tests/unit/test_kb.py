"""The shipped cards validate; bad cards are reported with file and field."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner

from coach.cli import cli
from coach.config import DEFAULT_KB
from coach.knowledge import load_knowledge
from coach.models import DOMAINS

MODEL_CARD = DEFAULT_KB / "generative-ai" / "genai-prompting-basics.yaml"


def test_shipped_cards_validate() -> None:
    result = CliRunner().invoke(cli, ["kb", "validate"])
    assert result.exit_code == 0, result.output
    kb = load_knowledge([DEFAULT_KB])
    assert len(kb.cards) >= 55
    for domain in DOMAINS:
        assert len(kb.in_domain(domain)) >= 5, domain
        folder = {Path(c.source).parent.name for c in kb.in_domain(domain)}
        assert folder == {domain}


def test_no_urls_or_clichés_in_cards() -> None:
    for path in DEFAULT_KB.rglob("*.yaml"):
        text = path.read_text(encoding="utf-8").lower()
        assert "http" not in text, path
        for word in ("boomer", "digital native", "dinosaur", "tech-illiterate"):
            assert word not in text, (path, word)


def bad_kb(tmp_path: Path, **changes: object) -> Path:
    data = yaml.safe_load(MODEL_CARD.read_text())
    data.update(changes)
    folder = tmp_path / "mykb"
    folder.mkdir(exist_ok=True)
    (folder / "bad.yaml").write_text(yaml.safe_dump(data))
    return folder


def test_bad_domain_named(tmp_path: Path) -> None:
    folder = bad_kb(tmp_path, id="my-card", domain="astrology")
    result = CliRunner().invoke(cli, ["kb", "validate", "--kb", str(folder)])
    assert result.exit_code == 2
    assert "bad.yaml: domain" in result.output


def test_duplicate_id_named(tmp_path: Path) -> None:
    folder = bad_kb(tmp_path)  # same id as the shipped card
    result = CliRunner().invoke(cli, ["kb", "validate", "--kb", str(folder)])
    assert result.exit_code == 2
    assert "bad.yaml: id" in result.output and "genai-prompting-basics" in result.output


def test_missing_prerequisite_named(tmp_path: Path) -> None:
    folder = bad_kb(tmp_path, id="my-card", prerequisites=["no-such-card"])
    result = CliRunner().invoke(cli, ["kb", "validate", "--kb", str(folder)])
    assert result.exit_code == 2
    assert "bad.yaml: prerequisites[0]" in result.output and "no-such-card" in result.output


def test_every_bad_card_is_reported(tmp_path: Path) -> None:
    folder = bad_kb(tmp_path, id="my-card", domain="astrology")
    shutil.copy(folder / "bad.yaml", folder / "bad2.yaml")
    (folder / "bad3.yaml").write_text("id: [unclosed")
    result = CliRunner().invoke(cli, ["kb", "validate", "--kb", str(folder)])
    assert result.exit_code == 2
    for name in ("bad.yaml: domain", "bad2.yaml: domain", "bad3.yaml: expected YAML"):
        assert name in result.output


def test_url_in_resource_rejected(tmp_path: Path) -> None:
    folder = bad_kb(tmp_path, id="my-card", resources=[{"name": "see https://example.com", "kind": "tool"}])
    result = CliRunner().invoke(cli, ["kb", "validate", "--kb", str(folder)])
    assert result.exit_code == 2
    assert "resources[0].name" in result.output


def test_prerequisite_cycle(tmp_path: Path) -> None:
    folder = bad_kb(tmp_path, id="card-a", prerequisites=["card-b"])
    data = yaml.safe_load((folder / "bad.yaml").read_text())
    data.update(id="card-b", prerequisites=["card-a"])
    (folder / "other.yaml").write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(cli, ["kb", "validate", "--kb", str(folder)])
    assert result.exit_code == 2
    assert "cycle" in result.output


def test_list_json_spec_fields() -> None:
    result = CliRunner().invoke(cli, ["kb", "list", "--format", "json"])
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert rows and set(rows[0]) == {"topic_id", "title", "domain", "level", "source", "reviewed"}
    assert all(Path(DEFAULT_KB.parent / r["source"]).is_file() for r in rows)


def test_show_text_and_json() -> None:
    result = CliRunner().invoke(cli, ["kb", "show", "genai-prompting-basics"])
    assert result.exit_code == 0 and "Prompting chat assistants" in result.output
    result = CliRunner().invoke(cli, ["kb", "show", "genai-prompting-basics", "--format", "json"])
    assert json.loads(result.output)["domain"] == "generative-ai"
    result = CliRunner().invoke(cli, ["kb", "show", "nope"])
    assert result.exit_code == 2 and "coach kb list" in result.output


def test_reviewed_month_listed(tmp_path: Path) -> None:
    folder = bad_kb(tmp_path, id="my-card", reviewed="2025-03")
    result = CliRunner().invoke(cli, ["kb", "list", "--kb", str(folder), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {r["topic_id"]: r for r in json.loads(result.output)}
    assert rows["my-card"]["reviewed"] == "2025-03"


def test_bad_reviewed_month_named(tmp_path: Path) -> None:
    next_year = dt.date.today().year + 1
    for value, expected in (
        ("2026-13", "month 01..12"),
        ("2026-00", "month 01..12"),
        ("March 2026", "YYYY-MM"),
        ("2026-03-01", "YYYY-MM"),
        (dt.date(2026, 3, 1), "YYYY-MM"),
        (f"{next_year}-01", "in the future"),
    ):
        folder = bad_kb(tmp_path, id="my-card", reviewed=value)
        result = CliRunner().invoke(cli, ["kb", "validate", "--kb", str(folder)])
        assert result.exit_code == 2, value
        assert "bad.yaml: reviewed" in result.output and expected in result.output, (value, result.output)
        assert "Traceback" not in result.output


def test_stale_lists_cards_due_for_review(tmp_path: Path) -> None:
    folder = bad_kb(tmp_path, id="old-card", reviewed="2025-01")
    fresh = yaml.safe_load(MODEL_CARD.read_text(encoding="utf-8")) | {"id": "fresh-card", "reviewed": "2026-06"}
    (folder / "fresh.yaml").write_text(yaml.safe_dump(fresh), encoding="utf-8")
    never = {k: v for k, v in fresh.items() if k != "reviewed"} | {"id": "never-card"}
    (folder / "never.yaml").write_text(yaml.safe_dump(never), encoding="utf-8")
    args = ["kb", "stale", "--kb", str(folder), "--months", "12", "--today", "2026-12-15", "--format", "json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    rows = [r for r in json.loads(result.output) if r["topic_id"] in {"old-card", "fresh-card", "never-card"}]
    assert [(r["topic_id"], r["months_since_review"]) for r in rows] == [("never-card", None), ("old-card", 23)]
    # Exactly 12 months is due; 11 is not.
    result = CliRunner().invoke(cli, [*args[:6], "--today", "2027-06-01", "--format", "json"])
    assert "fresh-card" in {r["topic_id"] for r in json.loads(result.output)}
    result = CliRunner().invoke(cli, [*args[:6], "--today", "2027-05-31", "--format", "json"])
    assert "fresh-card" not in {r["topic_id"] for r in json.loads(result.output)}
    table = CliRunner().invoke(cli, ["kb", "stale", "--kb", str(folder), "--today", "2026-12-15"])
    assert table.exit_code == 0 and "old-card" in table.output and "fresh-card" not in table.output
    bad = CliRunner().invoke(cli, ["kb", "stale", "--today", "15/12/2026"])
    assert bad.exit_code == 2 and "--today" in bad.output


def test_validate_warns_but_passes_on_stale_cards(tmp_path: Path) -> None:
    folder = bad_kb(tmp_path, id="old-card", reviewed="2025-01")
    result = CliRunner().invoke(cli, ["kb", "validate", "--kb", str(folder), "--today", "2026-12-15"])
    assert result.exit_code == 0, result.output
    assert "warning:" in result.output and "bad.yaml: reviewed 2025-01; due for review" in result.output
    assert "ok:" in result.output


def test_digcomp_ids_checked_against_the_framework(tmp_path: Path) -> None:
    from coach.digcomp import areas, competences

    assert len(areas()) == 5 and len(competences()) == 21
    assert competences()["1.1"].name == "Browsing, searching and filtering data, information and digital content"
    assert competences()["5.4"].name == "Identifying digital competence gaps"
    assert [n for n in competences() if n.startswith("2.")] == ["2.1", "2.2", "2.3", "2.4", "2.5", "2.6"]
    for value, expected in ((["6.1"], "'6.1'"), (["2.4", "2.4"], "once"), ("2.4", "a list")):
        folder = bad_kb(tmp_path, id="my-card", digcomp=value)
        result = CliRunner().invoke(cli, ["kb", "validate", "--kb", str(folder)])
        assert result.exit_code == 2 and "bad.yaml: digcomp" in result.output and expected in result.output, (
            result.output
        )
    folder = bad_kb(tmp_path, id="my-card", digcomp=[2.4, "4.2"])  # an unquoted 2.4 is read as text
    result = CliRunner().invoke(cli, ["kb", "show", "my-card", "--kb", str(folder), "--format", "json"])
    assert json.loads(result.output)["digcomp"] == ["2.4", "4.2"]
    shipped = load_knowledge([DEFAULT_KB]).cards
    tagged = [c for c in shipped if c.digcomp]
    assert len(tagged) >= 60 and all(c.digcomp for c in shipped if c.domain == "cybersecurity-privacy")


def test_a_card_shown_on_its_own_has_no_placeholders_left() -> None:
    # "{mentee_role}" in `coach kb show` and in the app's card panel read as a template, not a sentence.
    from coach.export import card_to_markdown
    from ui.render import card_markdown

    cards = load_knowledge([DEFAULT_KB]).cards
    with_placeholders = [c for c in cards if "{mentee_role}" in c.model_dump_json()]
    assert with_placeholders  # the shipped cards do use them
    for card in cards:
        for text in (card_to_markdown(card), card_markdown(card)):
            assert not any(p in text for p in ("{mentor}", "{mentee}", "{mentor_role}", "{mentee_role}")), card.id
    shown = CliRunner().invoke(cli, ["kb", "show", with_placeholders[0].id]).stdout
    assert "{mentee_role}" not in shown and "senior leader" in shown
