"""Roster CSV import: columns, per-row errors, parsing and storing a cohort's pairs in one go.

Roster CSV (UTF-8, comma-separated, header row first; one row per pair):

| column | required | meaning |
| --- | --- | --- |
| `mentor_name` | yes | the junior colleague who teaches |
| `mentor_role` | yes | their role |
| `mentor_strengths` | no | semicolon-separated, e.g. `prompting chat assistants;TikTok trends` |
| `mentee_name` | yes | the senior leader who learns |
| `mentee_role` | yes | their role |
| `goals` | yes | semicolon-separated, 1 to 12 goals |
| `comfort` | no | `domain=level` pairs separated by `;`, e.g. `generative-ai=1;social-media=2` (levels 1-5) |
| `sessions` | yes | 1..24 |
| `minutes` | yes | 15..180 |
| `cadence` | yes | `weekly`, `biweekly` or `monthly` |
| `start` | yes | date of session 1, `YYYY-MM-DD` |

Every bad row is reported with its line number and column; if any row is bad nothing is imported.
A row naming the same mentor and mentee as an earlier row, or as a pair already stored in the
same cohort, is bad too (so importing a roster twice does not double the cohort).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.errors import InputError, InputErrors
from coach.models import Pair

if TYPE_CHECKING:
    from coach.config import Settings

OPTIONAL_COLUMNS = ("mentor_strengths", "comfort")
#: Pair-file field (pydantic location prefix) -> roster column, for error messages.
FIELD_COLUMNS = {
    ("mentor", "name"): "mentor_name",
    ("mentor", "role"): "mentor_role",
    ("mentor", "strengths"): "mentor_strengths",
    ("mentee", "name"): "mentee_name",
    ("mentee", "role"): "mentee_role",
    ("mentee", "goals"): "goals",
    ("mentee", "comfort"): "comfort",
    ("program", "sessions"): "sessions",
    ("program", "minutes"): "minutes",
    ("program", "cadence"): "cadence",
    ("program", "start"): "start",
}
REQUIRED_COLUMNS = tuple(c for c in FIELD_COLUMNS.values() if c not in OPTIONAL_COLUMNS)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def _comfort(value: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in _split(value):
        key, sep, level = item.replace(":", "=").partition("=")
        if not sep or not key.strip() or not level.strip():
            raise ValueError(
                f"domain=level pairs separated by ';', such as 'generative-ai=1;social-media=2', got {item!r}"
            )
        out[key.strip()] = level.strip()
    return out


def _row_errors(shown: str, line: int, row: dict[str, str]) -> tuple[Pair | None, list[InputError]]:
    """The pair of one roster row, or the errors (one per bad column)."""
    from pydantic import ValidationError

    where = f"{shown} line {line}"
    errors: list[InputError] = []
    try:
        comfort = _comfort(row.get("comfort") or "")
    except ValueError as exc:
        errors.append(InputError(where, "comfort", str(exc)))
        comfort = {}
    data = {
        "mentor": {
            "name": row.get("mentor_name", ""),
            "role": row.get("mentor_role", ""),
            "strengths": _split(row.get("mentor_strengths") or ""),
        },
        "mentee": {
            "name": row.get("mentee_name", ""),
            "role": row.get("mentee_role", ""),
            "goals": _split(row.get("goals") or ""),
            "comfort": comfort,
        },
        "program": {
            "sessions": row.get("sessions", ""),
            "minutes": row.get("minutes", ""),
            "cadence": row.get("cadence", "").strip().lower(),
            "start": row.get("start", "").strip(),
        },
    }
    try:
        pair = Pair.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            column = FIELD_COLUMNS.get(
                (str(loc[0]), str(loc[1])) if len(loc) > 1 else ("", ""), ".".join(map(str, loc))
            )
            msg = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] in {"missing", "too_short"} and not (row.get(column) or "").strip():
                msg = "a value is required, but the cell is empty"
            elif column == "goals" and err["type"] == "too_long":
                msg = "at most 12 goals separated by ';'"
            elif column == "comfort" and len(loc) > 2:
                msg = f"{msg} (domain {loc[2]!r})"
            else:
                msg = f"{msg} (got {err.get('input')!r})"
            errors.append(InputError(where, column, msg))
        return None, errors
    return (pair, []) if not errors else (None, errors)


def parse_roster(path: str | Path) -> list[tuple[int, Pair]]:
    """Read and validate a roster CSV; returns (line number, pair) per row or raises InputErrors for every bad row."""
    from coach import csv_input

    shown = str(path)
    table, errors = csv_input.rows(csv_input.read_text(path, "a roster CSV file"), shown, COLUMNS, REQUIRED_COLUMNS)
    rows: list[tuple[int, Pair]] = []
    seen: dict[tuple[str, str], int] = {}
    for start_line, row in table:
        where = f"{shown} line {start_line}"
        pair, row_errors = _row_errors(shown, start_line, row)
        errors += row_errors
        if pair is None:
            continue
        key = (pair.mentor.name.lower(), pair.mentee.name.lower())
        if key in seen:
            errors.append(
                InputError(where, "mentee_name", f"a new pair, but line {seen[key]} has the same mentor and mentee")
            )
            continue
        seen[key] = start_line
        rows.append((start_line, pair))
    if errors:
        raise InputErrors(errors)
    if not rows:
        raise InputError(shown, "", "at least one pair row after the header")
    return rows


def import_roster(settings: Settings, path: str | Path, cohort: str | None = None) -> list[str]:
    """Validate the roster and store every pair in one transaction; returns the new pair ids.

    Args:
        settings: Where the database is.
        path: The roster CSV (columns in this module's docstring).
        cohort: The cohort name; defaults to the file name without its extension.
    """
    from coach.store import open_store

    path = Path(path)
    rows = parse_roster(path)
    cohort = cohort or path.stem
    store = open_store(settings)
    existing = store.existing_names(cohort)
    errors = [
        InputError(
            f"{path} line {line}",
            "mentee_name",
            f"a new pair, but pair {existing[key]} in cohort {cohort!r} has the same mentor and mentee",
        )
        for line, pair in rows
        if (key := (pair.mentor.name.lower(), pair.mentee.name.lower())) in existing
    ]
    if errors:
        raise InputErrors(errors)
    return store.add_pairs([p for _, p in rows], cohort=cohort, source=str(path))
