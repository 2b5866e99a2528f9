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
    try:
        data = load_file(path, shown)
    except ValueError:
        # YAML builds dates itself and raises on an impossible one (`start: 2026-13-45`, "month must be
        # in 1..12"), naming no field. The file has passed the size and shape checks by then: read it
        # again with dates left as text, so validation names the field (`program.start`).
        data = _load_dates_as_text(path)
    return parse_pair(data, shown)


def _load_dates_as_text(path: Path) -> Any:
    import yaml

    class _DatesAsText(yaml.SafeLoader):
        pass

    _DatesAsText.add_constructor(
        "tag:yaml.org,2002:timestamp",
        lambda loader, node: loader.construct_scalar(node),  # type: ignore[arg-type]
    )
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_DatesAsText)
