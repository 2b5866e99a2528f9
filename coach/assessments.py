"""Assessments: each side's comfort per domain, goal attainment, follow-up use and recommendation, validated.

Both sides assess: a baseline before the pairing starts, a closing one at the end and follow-ups
3, 12 and 24 months after the last session. Comfort is 1-5 per SPEC.md section 1 domain (the
words in `COMFORT_WORDS`), goal attainment -2..+2 per goal number (1-based), a follow-up asks
whether the person used it at work since (with an example), a closing one 0-10 "would you
recommend it" (NPS). `parse_assessment` turns a JSON body or a CSV row into an `AssessmentIn`
or raises `InputError` naming the field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from coach.errors import InputError

KINDS = ("baseline", "closing", "followup")
SIDES = ("mentor", "mentee")
#: Follow-ups fall this many months after the last held session.
FOLLOWUP_MONTHS = (3, 12, 24)
#: Each comfort level in plain words (the app's form shows these).
COMFORT_WORDS = {
    1: "I don't know how to do it",
    2: "I can do it with help",
    3: "I can do it on my own",
    4: "I can do it with confidence",
    5: "I can do it with confidence and can guide others",
}
#: The goal-attainment scale, -2..+2, in plain words.
GAS_WORDS = {
    -2: "much less than expected",
    -1: "somewhat less than expected",
    0: "as expected",
    1: "somewhat more than expected",
    2: "much more than expected",
}
MAX_EXAMPLE = 2000


@dataclass(frozen=True)
class AssessmentIn:
    """One side's validated assessment, before it is stored."""

    side: str
    kind: str
    #: 3, 12 or 24 for a follow-up, None otherwise.
    followup_months: int | None
    assessed_on: dt.date
    comfort: dict[str, int] = field(default_factory=dict)
    #: Goal number (1-based) -> -2..+2.
    goals: dict[int, int] = field(default_factory=dict)
    used_at_work: bool | None = None
    example: str = ""
    recommend: int | None = None

    @property
    def slot(self) -> str:
        """Which assessment this is: baseline, closing or followup-3m/12m/24m."""
        return f"followup-{self.followup_months}m" if self.kind == "followup" else self.kind


@dataclass(frozen=True)
class Assessment(AssessmentIn):
    """A stored assessment: who entered it and when."""

    id: int = 0
    pair_id: str = ""
    entered_by: str = ""
    created_at: dt.datetime = dt.datetime(1970, 1, 1)


def answers_key(a: AssessmentIn) -> tuple[object, ...]:
    """What makes two assessments the same answers (side, slot, date and every rating), not who typed them."""
    return (
        a.side,
        a.kind,
        a.followup_months,
        a.assessed_on,
        tuple(sorted(a.comfort.items())),
        tuple(sorted(a.goals.items())),
        a.used_at_work,
        a.example,
        a.recommend,
    )


def domains() -> tuple[str, ...]:
    """The SPEC.md section 1 domains."""
    from coach.models import DOMAINS

    return DOMAINS


def _int(value: Any, low: int, high: int, file: str, name: str, what: str) -> int:
    if isinstance(value, bool):
        raise InputError(file, name, f"{what}, got {value!r}")
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("+-").isdigit():
            value = int(text)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or not low <= value <= high:
        raise InputError(file, name, f"{what}, got {value!r}")
    return value


def _bool(value: Any, file: str, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("yes", "true", "1", "y"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("no", "false", "0", "n"):
        return False
    raise InputError(file, name, f"true or false (yes or no), got {value!r}")


def parse_assessment(
    body: Mapping[str, Any],
    *,
    side: str,
    goals_total: int,
    today: dt.date,
    file: str = "request body",
    prefix: str = "",
) -> AssessmentIn:
    """Validate one assessment (a JSON body or a CSV row turned into one); `prefix` is put before field names.

    Keys: kind, followup_months (a follow-up: 3, 12 or 24), date (YYYY-MM-DD, default `today`),
    comfort {DOMAIN: 1-5}, goals {"N": -2..2}, used_at_work + example (follow-ups only),
    recommend 0-10 (closing only). Unknown keys are refused.
    """
    if not isinstance(body, Mapping):
        raise InputError(file, prefix.rstrip(".") or "body", "a JSON object")
    allowed = {"kind", "followup_months", "date", "comfort", "goals", "used_at_work", "example", "recommend"}
    for key in body:
        if key not in allowed:
            raise InputError(file, f"{prefix}{key}", f"unknown key; allowed: {', '.join(sorted(allowed))}")
    if side not in SIDES:
        raise InputError(file, f"{prefix}side", f"mentor or mentee, got {side!r}")
    kind = body.get("kind")
    if kind not in KINDS:
        raise InputError(file, f"{prefix}kind", f"one of {', '.join(KINDS)}, got {kind!r}")
    months: int | None = None
    if kind == "followup":
        raw = body.get("followup_months")
        if raw is None or raw == "":
            raise InputError(file, f"{prefix}followup_months", "3, 12 or 24 for a follow-up")
        months = _int(raw, 0, 1000, file, f"{prefix}followup_months", "3, 12 or 24")
        if months not in FOLLOWUP_MONTHS:
            raise InputError(file, f"{prefix}followup_months", f"3, 12 or 24, got {months!r}")
    elif body.get("followup_months") not in (None, ""):
        raise InputError(file, f"{prefix}followup_months", "only for kind followup")
    raw_date = body.get("date")
    if raw_date in (None, ""):
        on = today
    else:
        try:
            on = dt.date.fromisoformat(str(raw_date))
        except ValueError:
            raise InputError(file, f"{prefix}date", f"a date YYYY-MM-DD, got {raw_date!r}") from None
        if on > today:
            raise InputError(file, f"{prefix}date", f"a date not in the future, got {on.isoformat()}")
    comfort_raw = body.get("comfort") or {}
    if not isinstance(comfort_raw, Mapping):
        raise InputError(file, f"{prefix}comfort", "an object {DOMAIN: 1-5}")
    known = domains()
    comfort: dict[str, int] = {}
    for name, level in comfort_raw.items():
        if name not in known:
            raise InputError(file, f"{prefix}comfort.{name}", f"a domain: one of {', '.join(known)}")
        comfort[str(name)] = _int(level, 1, 5, file, f"{prefix}comfort.{name}", "a comfort level 1-5")
    goals_raw = body.get("goals") or {}
    if not isinstance(goals_raw, Mapping):
        raise InputError(file, f"{prefix}goals", 'an object {"GOAL NUMBER": -2..2}')
    goals: dict[int, int] = {}
    for number, score in goals_raw.items():
        n = _int(number, 1, max(goals_total, 1), file, f"{prefix}goals.{number}", f"a goal number 1-{goals_total}")
        if n > goals_total:
            raise InputError(file, f"{prefix}goals.{number}", f"a goal number 1-{goals_total}")
        goals[n] = _int(score, -2, 2, file, f"{prefix}goals.{number}", "a goal attainment -2..2")
    used: bool | None = None
    example = ""
    if body.get("used_at_work") not in (None, ""):
        if kind != "followup":
            raise InputError(file, f"{prefix}used_at_work", "only for kind followup")
        used = _bool(body["used_at_work"], file, f"{prefix}used_at_work")
    raw_example = body.get("example")
    if raw_example not in (None, ""):
        if kind != "followup":
            raise InputError(file, f"{prefix}example", "only for kind followup")
        if not isinstance(raw_example, str) or len(raw_example) > MAX_EXAMPLE:
            raise InputError(file, f"{prefix}example", f"text of at most {MAX_EXAMPLE} characters")
        example = raw_example.strip()
    recommend: int | None = None
    if body.get("recommend") not in (None, ""):
        if kind != "closing":
            raise InputError(file, f"{prefix}recommend", "only for kind closing")
        recommend = _int(body["recommend"], 0, 10, file, f"{prefix}recommend", "0-10")
    if kind == "followup" and used is None:
        raise InputError(file, f"{prefix}used_at_work", "yes or no: did you use it at work since?")
    if not comfort and not goals and used is None and recommend is None:
        raise InputError(file, f"{prefix}comfort", "at least one comfort level, goal rating or answer")
    return AssessmentIn(
        side=side,
        kind=str(kind),
        followup_months=months,
        assessed_on=on,
        comfort=comfort,
        goals=goals,
        used_at_work=used,
        example=example,
        recommend=recommend,
    )


#: Columns of an assessments CSV (`coach assess FILE`); comfort and goals as `key=N;key=N`.
CSV_COLUMNS = (
    "pair",
    "side",
    "kind",
    "followup_months",
    "date",
    "comfort",
    "goals",
    "used_at_work",
    "example",
    "recommend",
)
CSV_REQUIRED = ("pair", "side", "kind")


def _pairs_cell(text: str, where: str, column: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError(
                where, column, f"key=N pairs separated by ';' (e.g. generative-ai=3), got {part.strip()!r}"
            )
        if key.strip() in out:
            raise InputError(where, column, f"each key once, but {key.strip()!r} appears twice")
        out[key.strip()] = value.strip()
    return out


def parse_csv(
    path: str, goals_of: Callable[[str], tuple[str, int] | None], today: dt.date
) -> list[tuple[int, str, AssessmentIn]]:
    """Read and validate an assessments CSV; (line, pair id, assessment) per row, or InputErrors naming every bad cell.

    `goals_of(pair)` gives the stored pair's full id and number of goals, or None for an unknown
    pair. The file is bounded by coach.limits (rows and bytes) and read before anything is stored.
    """
    from coach import csv_input
    from coach.errors import InputErrors

    shown = str(path)
    table, errors = csv_input.rows(
        csv_input.read_text(path, "an assessments CSV file"), shown, CSV_COLUMNS, CSV_REQUIRED
    )
    rows: list[tuple[int, str, AssessmentIn]] = []
    for start, cells in table:
        where = f"{shown} line {start}"
        row = {h: c.strip() for h, c in cells.items()}
        try:
            found = goals_of(row["pair"])
            if found is None:
                raise InputError(where, "pair", f"the id of a stored pair, got {row['pair']!r}")
            pid, goals_total = found
            body: dict[str, Any] = {k: v for k, v in row.items() if k not in ("pair", "side") and v != ""}
            for column in ("comfort", "goals"):
                if column in body:
                    body[column] = _pairs_cell(body[column], where, column)
            assessment = parse_assessment(
                body, side=row["side"].lower(), goals_total=goals_total, today=today, file=where
            )
        except InputError as exc:
            column, _, rest = exc.field.partition(".")
            detail = f"{rest}: {exc.expected}" if rest else exc.expected
            errors.append(InputError(where, column, detail))
            continue
        rows.append((start, pid, assessment))
    if errors:
        raise InputErrors(errors)
    if not rows:
        raise InputError(shown, "", "at least one assessment row after the header")
    return rows
