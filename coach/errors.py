"""Error types the CLI maps to exit codes (SPEC.md section 8)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import ValidationError


class CoachError(Exception):
    """Anything that is not bad input: exit code 1, one line on stderr."""


class InputError(CoachError):
    """Bad user input: exit code 2; names the file, the field and what was expected."""

    def __init__(self, file: str, field: str, expected: str) -> None:
        self.file = file
        self.field = field
        self.expected = expected
        where = f"{file}: {field}" if field else file
        super().__init__(f"{where}: {expected}")


class InputErrors(InputError):
    """Several bad-input problems reported together (e.g. every bad card)."""

    def __init__(self, errors: list[InputError]) -> None:
        self.errors = errors
        first = errors[0]
        super().__init__(first.file, first.field, first.expected)
        self.args = ("\n".join(str(e) for e in errors),)

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


def field_path(loc: tuple[int | str, ...]) -> str:
    """Turn a pydantic location tuple into `mentee.goals[1]`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _allowed_keys(title: str, loc: tuple[Any, ...]) -> list[str]:
    """The keys the model allows where an unknown key was found (empty when the model is not known here)."""
    import typing

    from pydantic import BaseModel

    import coach.models

    def model_in(annotation: Any) -> type[BaseModel] | None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return annotation
        for arg in typing.get_args(annotation):
            if found := model_in(arg):
                return found
        return None

    model = model_in(getattr(coach.models, title, None))
    for part in loc[:-1]:
        if model is None:
            return []
        if isinstance(part, str) and part in model.model_fields:
            model = model_in(model.model_fields[part].annotation)
    return sorted(model.model_fields) if model is not None else []


def from_validation(file: str, exc: ValidationError) -> InputErrors:
    """One InputError per pydantic error, each naming the field and what was expected."""
    errors: list[InputError] = []
    from coach.limits import excerpt

    for err in exc.errors(include_url=False):
        field = field_path(tuple(err["loc"]))
        kind = err["type"]
        if kind == "extra_forbidden":
            keys = _allowed_keys(exc.title, tuple(err["loc"]))
            expected = "unknown key (check the spelling" + (f"; allowed here: {', '.join(keys)})" if keys else ")")
        elif kind == "missing":
            expected = "required but missing"
        else:
            msg = err["msg"]
            msg = msg.removeprefix("Value error, ")
            expected = f"{msg} (got {excerpt(err.get('input'))})"
        errors.append(InputError(file, field, expected))
    return InputErrors(errors)


def parse_iso_date(value: str | None, flag: str, field: str) -> dt.date | None:
    """A command-line date (YYYY-MM-DD) or None; bad input names the option."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(flag, field, f"a date as YYYY-MM-DD, got {value!r}") from None
