"""Prompt templates kept as files in `prompts/`, loaded by name and filled strictly.

A template uses `{name}` for a value the code fills in and `{{` / `}}` for literal braces.
`render` refuses a missing or an unexpected value, so a template and the code that fills it
cannot drift apart silently.
"""

from __future__ import annotations

import functools
import string
from dataclasses import dataclass
from pathlib import Path

from coach.errors import CoachError


@dataclass(frozen=True)
class Prompt:
    """One template file."""

    name: str
    text: str

    @property
    def variables(self) -> frozenset[str]:
        """The `{names}` the template expects."""
        names = set()
        for _, field, _, _ in string.Formatter().parse(self.text):
            if field is not None:
                if not field.isidentifier():
                    raise CoachError(f"prompt {self.name}: placeholder {{{field}}} is not a plain name")
                names.add(field)
        return frozenset(names)

    def render(self, **values: str) -> str:
        """Fill every variable; raises CoachError when the values and the template disagree."""
        expected = self.variables
        given = set(values)
        if given != expected:
            missing = ", ".join(sorted(expected - given)) or "none"
            extra = ", ".join(sorted(given - expected)) or "none"
            raise CoachError(f"prompt {self.name}: missing values {missing}; unexpected values {extra}")
        return self.text.format(**values)


def prompts_dir() -> Path:
    """Where the templates live."""
    from coach.config import PROMPTS_DIR

    return PROMPTS_DIR


@functools.cache
def _load(folder: Path, name: str) -> Prompt:
    for suffix in (".md", ".txt"):
        path = folder / f"{name}{suffix}"
        if path.is_file():
            return Prompt(name, path.read_text(encoding="utf-8").strip() + "\n")
    raise CoachError(f"prompt template {name!r} not found in {folder}")


def load_prompt(name: str) -> Prompt:
    """The template `prompts/NAME.md` (or `.txt`)."""
    return _load(prompts_dir(), name)


def render(name: str, **values: str) -> str:
    """Load and fill a template in one step."""
    return load_prompt(name).render(**values)


def available() -> list[str]:
    """Names of every template in the folder."""
    return sorted({p.stem for p in prompts_dir().iterdir() if p.suffix in {".md", ".txt"}})
