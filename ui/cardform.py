"""The card form: plain text boxes in, a validated card out, saved as YAML and re-indexed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ui.common import lines

if TYPE_CHECKING:
    from coach.config import Settings
    from coach.knowledge import KnowledgeBase
    from coach.models import Card

FIELDS: tuple[str, ...] = (
    "id",
    "title",
    "domain",
    "level",
    "summary",
    "objectives",
    "key_concepts",
    "activities",
    "discussion_prompts",
    "pitfalls",
    "pre_work",
    "resources",
    "prerequisites",
    "tags",
)

HELP: dict[str, str] = {
    "id": "a short name of lowercase words joined by dashes, e.g. genai-meeting-notes",
    "title": "a title of a few words",
    "domain": "one of the subjects in the list",
    "level": "intro, intermediate or advanced",
    "summary": "two or three sentences saying what the topic is and why it matters",
    "objectives": "at least one objective, one per line",
    "key_concepts": "at least one line written as  term: what it means",
    "activities": "at least one line written as  minutes | format | who leads | title | description",
    "discussion_prompts": "at least one line written as  who asks | the question",
    "pitfalls": "one per line",
    "pre_work": "one per line",
    "resources": "lines written as  kind | name | note  (named books or tools, never web links)",
    "prerequisites": "ids of existing cards, separated by commas",
    "tags": "words separated by commas",
}

FORMATS = ("demo", "hands-on", "discussion", "reflection", "role-play", "exercise", "walkthrough", "review")
LEADS = ("mentor", "mentee", "both")
KINDS = ("book", "tool", "help-page", "article", "course", "podcast", "template", "report")


@dataclass
class CardCheck:
    """A card that passed every rule, or the problems per form field."""

    card: Card | None
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, problem: str) -> None:
        """Record one problem for one field."""
        self.errors.setdefault(name, []).append(problem)

    def message(self) -> str:
        """Every problem as Markdown bullet points, by field."""
        out = []
        for name in FIELDS:
            for p in self.errors.get(name, []):
                out.append(f"- **{name.replace('_', ' ')}**: {p}")
        return "\n".join(out)


def _split(text: str | None) -> list[str]:
    return [p.strip() for p in re.split(r"[,\n]", text or "") if p.strip()]


def form_to_data(values: dict[str, Any], check: CardCheck) -> dict[str, Any]:
    """Card data from the form's text boxes; lines that do not fit their pattern are reported."""
    data: dict[str, Any] = {k: (values.get(k) or "").strip() for k in ("id", "title", "domain", "level", "summary")}
    data["objectives"] = lines(values.get("objectives"))
    concepts = []
    for i, ln in enumerate(lines(values.get("key_concepts")), 1):
        term, sep, meaning = ln.partition(":")
        if not sep:
            check.add("key_concepts", f"line {i} needs a colon between the term and its meaning")
            continue
        concepts.append({"term": term.strip(), "meaning": meaning.strip()})
    data["key_concepts"] = concepts
    activities = []
    for i, ln in enumerate(lines(values.get("activities")), 1):
        parts = [p.strip() for p in ln.split("|")]
        if len(parts) < 5 or not parts[0].isdigit():
            check.add("activities", f"line {i} should be: minutes | format | who leads | title | description")
            continue
        minutes, fmt, lead, title = parts[:4]
        activities.append(
            {"title": title, "minutes": int(minutes), "format": fmt, "lead": lead, "description": " | ".join(parts[4:])}
        )
    data["activities"] = activities
    prompts = []
    for i, ln in enumerate(lines(values.get("discussion_prompts")), 1):
        who, sep, text = ln.partition("|")
        if not sep:
            check.add("discussion_prompts", f"line {i} should be: who asks | the question")
            continue
        prompts.append({"asked_by": who.strip(), "text": text.strip()})
    data["discussion_prompts"] = prompts
    resources = []
    for i, ln in enumerate(lines(values.get("resources")), 1):
        parts = [p.strip() for p in ln.split("|")]
        if len(parts) < 2:
            check.add("resources", f"line {i} should be: kind | name | note")
            continue
        resources.append({"kind": parts[0], "name": parts[1], "note": " | ".join(parts[2:])})
    data["resources"] = resources
    data["pitfalls"] = lines(values.get("pitfalls"))
    data["pre_work"] = lines(values.get("pre_work"))
    data["prerequisites"] = _split(values.get("prerequisites"))
    data["tags"] = _split(values.get("tags"))
    return data


def card_to_form(card: Card) -> dict[str, str]:
    """The form's text for an existing card."""
    return {
        "id": card.id,
        "title": card.title,
        "domain": card.domain,
        "level": card.level,
        "summary": " ".join(card.summary.split()),
        "objectives": "\n".join(card.objectives),
        "key_concepts": "\n".join(f"{k.term}: {k.meaning}" for k in card.key_concepts),
        "activities": "\n".join(
            f"{a.minutes} | {a.format} | {a.lead} | {a.title} | {' '.join(a.description.split())}"
            for a in card.activities
        ),
        "discussion_prompts": "\n".join(f"{p.asked_by} | {p.text}" for p in card.discussion_prompts),
        "pitfalls": "\n".join(card.pitfalls),
        "pre_work": "\n".join(card.pre_work),
        "resources": "\n".join(f"{r.kind} | {r.name}" + (f" | {r.note}" if r.note else "") for r in card.resources),
        "prerequisites": ", ".join(card.prerequisites),
        "tags": ", ".join(card.tags),
    }


def check_card(values: dict[str, Any], kb: KnowledgeBase, editing: str | None) -> CardCheck:
    """Validate the form as a card, and against the other cards (unique id, prerequisites, no cycles).

    Args:
        values: The form's text boxes by field name.
        kb: The current knowledge base.
        editing: The id of the card being edited (it may keep its id), or None for a new card.
    """
    from pydantic import ValidationError

    from coach.errors import from_validation
    from coach.knowledge import validate_cards
    from coach.models import Card

    check = CardCheck(None)
    data = form_to_data(values, check)
    try:
        card = Card.model_validate(data)
    except ValidationError as exc:
        lines_wrong = set(check.errors)
        for e in from_validation("card", exc).errors:
            name = e.field.split(".")[0].split("[")[0] or "id"
            name = name if name in FIELDS else "id"
            if name not in lines_wrong:  # a field whose lines were already explained needs no second message
                check.add(name, f"{HELP.get(name, '')} ({e.expected})".strip())
        for i, pre in enumerate(data["prerequisites"], 1):
            if pre not in kb.by_id:
                check.add("prerequisites", f"{pre!r} (number {i}) is not the id of an existing card")
        return check
    if check.errors:
        return check
    if card.id in kb.by_id and card.id != editing:
        check.add("id", f"{card.id!r} is already used by another card: choose another id")
        return check
    old = kb.get(editing) if editing else None
    card.source = old.source if old is not None and editing == card.id else f"(new) {card.id}"
    others = [c for c in kb.cards if c.id not in {card.id, editing}]
    for e in validate_cards([*others, card]):
        if e.file == card.source:
            check.add(e.field.split("[")[0] or "id", e.expected)
    if not check.errors:
        check.card = card
    return check


def target_path(card: Card, settings: Settings, kb: KnowledgeBase, editing: str | None) -> Path:
    """Where a saved card goes: its own file when edited in place, else the first user card folder.

    New cards go to the first folder of `COACH_KB_DIRS` when one is set, otherwise into the shipped
    `knowledge_base/<domain>/` folder.
    """
    from coach.config import PACKAGE_ROOT

    old = kb.get(editing) if editing else None
    if old is not None and old.id == card.id and old.source:
        path = Path(old.source)
        return path if path.is_absolute() else PACKAGE_ROOT / path
    folder = settings.kb_dirs[1] if len(settings.kb_dirs) > 1 else settings.kb_dirs[0]
    return Path(folder) / card.domain / f"{card.id}.yaml"


def card_yaml(card: Card) -> str:
    """The card as YAML, in the field order of the shipped cards."""
    import yaml

    data = card.model_dump(mode="json", exclude={"source"})
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
