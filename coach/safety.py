"""What may cross the wire to a model, and how card and user text is kept as data.

- `pair_for_model`: the allowlist of pair fields a model may see (names, roles, goals, comfort,
  strengths, program). It is built field by field, so a field added to the pair later is not sent.
- `fence`: wraps card or user text in a `<data>` block the system prompt tells the model to treat
  as material, never as instructions; a closing tag inside the text cannot end the block early.
- `leaks`: whether model output repeats a run of words from a system prompt, so it can be withheld.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from coach.models import Pair

#: Pair fields a model may see, by side. Anything else stays on this machine.
PAIR_ALLOWLIST: dict[str, tuple[str, ...]] = {
    "mentor": ("name", "role", "strengths"),
    "mentee": ("name", "role", "goals", "comfort"),
    "program": ("sessions", "minutes", "cadence", "start"),
}

#: Words in a row that count as repeating the system prompt.
LEAK_RUN = 8

_FENCE_TAG = re.compile(r"<(/?)(data)", re.IGNORECASE)


def pair_for_model(pair: Pair) -> dict[str, Any]:
    """The allowlisted pair fields as JSON-ready data."""
    out: dict[str, Any] = {}
    for side, names in PAIR_ALLOWLIST.items():
        part = getattr(pair, side)
        values: dict[str, Any] = {}
        for name in names:
            value = getattr(part, name)
            if hasattr(value, "isoformat"):
                value = value.isoformat()
            elif isinstance(value, dict):
                value = dict(value)
            elif isinstance(value, list):
                value = list(value)
            values[name] = value
        out[side] = values
    return out


def fence(name: str, text: str) -> str:
    """Wrap text as a data block; any `<data` or `</data` inside it is defused."""
    safe = _FENCE_TAG.sub(lambda m: f"<{m.group(1)}{m.group(2)}\u200b", text)
    return f'<data name="{name}">\n{safe}\n</data>'


def fence_json(name: str, value: Any) -> str:
    """A data block holding compact JSON."""
    return fence(name, json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def _runs(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


class LeakGuard:
    """Detects output that repeats `LEAK_RUN` or more words in a row from any of the secret texts."""

    def __init__(self, secrets: Iterable[str], run: int = LEAK_RUN) -> None:
        self.run = run
        self._runs: set[tuple[str, ...]] = set()
        for s in secrets:
            self._runs |= _runs(_words(s), run)

    def leaks(self, text: str) -> bool:
        """True when `text` repeats a run of words from a secret."""
        words = _words(text)
        return any(tuple(words[i : i + self.run]) in self._runs for i in range(len(words) - self.run + 1))


def leaks(text: str, secrets: Iterable[str]) -> bool:
    """True when `text` repeats `LEAK_RUN` words in a row from any secret."""
    return LeakGuard(secrets).leaks(text)


_ASKS_FOR_INSTRUCTIONS = re.compile(
    r"system\s+prompt|your\s+(?:instructions|prompt|rules|guidelines)|(?:ignore|disregard|forget)\s+"
    r"(?:all\s+|any\s+|the\s+|your\s+)?(?:previous|prior|above|earlier)|developer\s+message|"
    r"(?:print|show|reveal|repeat|output)\s+(?:me\s+)?(?:the\s+|your\s+)?(?:hidden\s+|initial\s+)?(?:prompt|instructions)",
    re.IGNORECASE,
)


def asks_for_instructions(text: str) -> bool:
    """Whether a question tries to read or override the coach's own instructions."""
    return bool(_ASKS_FOR_INSTRUCTIONS.search(text))
