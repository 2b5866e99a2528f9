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
    import yaml

    path = Path(path)
    shown = str(path)
    if not path.is_file():
        raise InputError(shown, "", "expected a pair YAML file, but it does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError(shown, "", "expected a UTF-8 text YAML file") from None
    except yaml.YAMLError as exc:
        raise InputError(shown, "", f"expected YAML ({str(exc).splitlines()[0]})") from None
    return parse_pair(data, shown)
