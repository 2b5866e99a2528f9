"""Read the pair file (SPEC.md section 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from coach.errors import InputError, from_validation
from coach.models import Pair


def parse_pair(data: Any, shown: str) -> Pair:
    """Validate already-parsed pair data; `shown` names the source in errors."""
    from pydantic import ValidationError

    if not isinstance(data, dict):
        raise InputError(shown, "", "expected a mapping with keys mentor, mentee and program")
    try:
        return Pair.model_validate(data)
    except ValidationError as exc:
        raise from_validation(shown, exc) from None


def load_pair(path: str | Path) -> Pair:
    """Load and validate a pair YAML file; raises InputError naming file and field."""
    from coach.safe_yaml import load_file

    path = Path(path)
    shown = str(path)
    if not path.is_file():
        raise InputError(shown, "", "expected a pair YAML file, but it does not exist")
    return parse_pair(load_file(path, shown), shown)
