"""Topic cards: load, validate and look up the knowledge base."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from coach.errors import InputError, InputErrors, from_validation
from coach.models import Card


def _relative(path: Path) -> str:
    from coach.config import PACKAGE_ROOT

    try:
        return str(path.resolve().relative_to(PACKAGE_ROOT))
    except ValueError:
        return str(path)


def load_card(path: Path) -> Card:
    """Load and validate one card file; raises InputErrors naming file and field."""
    from pydantic import ValidationError

    from coach.safe_yaml import load_file

    shown = _relative(path)
    data = load_file(path, shown)
    if not isinstance(data, dict):
        raise InputError(shown, "", "expected a mapping of card fields at the top level")
    try:
        card = Card.model_validate(data)
    except ValidationError as exc:
        raise from_validation(shown, exc) from None
    card.source = shown
    return card


def card_files(dirs: Iterable[Path]) -> list[Path]:
    """Every card file under the given folders, in a stable order."""
    files: list[Path] = []
    for d in dirs:
        d = Path(d)
        if not d.exists():
            raise InputError(str(d), "", "expected a folder of card YAML files, but it does not exist")
        files += sorted(p for p in d.rglob("*") if p.suffix in {".yaml", ".yml"} and p.is_file())
    return files


@dataclass
class KnowledgeBase:
    """The validated cards, indexed by id and domain."""

    cards: list[Card]
    by_id: dict[str, Card] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {c.id: c for c in self.cards}

    def get(self, card_id: str) -> Card | None:
        """The card with this id, if any."""
        return self.by_id.get(card_id)

    def in_domain(self, domain: str) -> list[Card]:
        """Cards of one domain, in id order."""
        return [c for c in self.cards if c.domain == domain]


def card_hash(card: Card) -> str:
    """Content hash of a card (what decides whether it must be re-embedded)."""
    payload = json.dumps(card.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def validate_cards(cards: Sequence[Card]) -> list[InputError]:
    """Cross-card rules: unique ids and prerequisites that exist and do not loop."""
    errors: list[InputError] = []
    seen: dict[str, Card] = {}
    for card in cards:
        if card.id in seen:
            errors.append(
                InputError(card.source, "id", f"a unique id, but {card.id!r} is also used by {seen[card.id].source}")
            )
        else:
            seen[card.id] = card
    for card in cards:
        for i, pre in enumerate(card.prerequisites):
            if pre not in seen:
                errors.append(
                    InputError(card.source, f"prerequisites[{i}]", f"the id of an existing card, got {pre!r}")
                )
            elif pre == card.id:
                errors.append(InputError(card.source, f"prerequisites[{i}]", "another card's id, not the card itself"))
    # Cycles make an order impossible.
    state: dict[str, int] = {}

    def visit(cid: str, trail: list[str]) -> None:
        if state.get(cid) == 2 or cid not in seen:
            return
        if state.get(cid) == 1:
            loop = " -> ".join([*trail[trail.index(cid) :], cid])
            errors.append(InputError(seen[cid].source, "prerequisites", f"no cycle, but found {loop}"))
            return
        state[cid] = 1
        for pre in seen[cid].prerequisites:
            visit(pre, [*trail, cid])
        state[cid] = 2

    for cid in seen:
        visit(cid, [])
    return errors


def load_knowledge(dirs: Iterable[Path]) -> KnowledgeBase:
    """Load every card under `dirs`; raises InputErrors listing every bad card."""
    errors: list[InputError] = []
    cards: list[Card] = []
    for path in card_files(dirs):
        try:
            cards.append(load_card(path))
        except InputErrors as exc:
            errors += exc.errors
        except InputError as exc:
            errors.append(exc)
    errors += validate_cards(cards)
    if errors:
        raise InputErrors(errors)
    return KnowledgeBase(cards)


#: Cards checked longer ago than this are due for review (`coach kb stale`, `coach kb validate`).
REVIEW_MONTHS = 12


def months_since(reviewed: str, today: dt.date) -> int:
    """Whole months from a `YYYY-MM` review month to `today`'s month (0 in the same month)."""
    year, month = (int(part) for part in reviewed.split("-"))
    return (today.year - year) * 12 + (today.month - month)


@dataclass(frozen=True)
class StaleCard:
    """A card due for review: never reviewed (`reviewed` is None) or reviewed `months` ago."""

    card: Card
    months: int | None


def stale_cards(cards: Sequence[Card], months: int = REVIEW_MONTHS, today: dt.date | None = None) -> list[StaleCard]:
    """Cards whose last review is `months` or more months before `today` (default: the real today), oldest first.

    Args:
        cards: The cards to check.
        months: How many months a review stays current.
        today: The date to measure from; injectable so tests do not depend on the clock.

    Returns:
        The cards due for review: those never reviewed first, then the oldest review first.
    """
    today = today or dt.date.today()
    out = []
    for card in cards:
        age = None if card.reviewed is None else months_since(card.reviewed, today)
        if age is None or age >= months:
            out.append(StaleCard(card, age))
    return sorted(out, key=lambda s: (s.months is not None, -(s.months or 0), s.card.id))


#: What a card's placeholders read as when no pair is known (a card shown on its own).
NEUTRAL_PLACEHOLDERS = {
    "{mentor}": "the mentor",
    "{mentee}": "the senior leader",
    "{mentor_role}": "junior colleague",
    "{mentee_role}": "senior leader",
}


def neutral(text: str) -> str:
    """The text with a card's placeholders ({mentee_role}...) in neutral words, for a card shown on its own."""
    for key, value in NEUTRAL_PLACEHOLDERS.items():
        text = text.replace(key, value)
    return text
