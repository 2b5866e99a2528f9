"""The pair form: turn form values into pair data and bad input into plain words next to each field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from coach.errors import InputError, InputErrors
from coach.models import MENTOR_DOMAINS, Pair
from ui.common import lines

#: Form slots that can show an error, in page order.
SLOTS: tuple[str, ...] = (
    "mentor_name",
    "mentor_role",
    "strengths",
    "mentee_name",
    "mentee_role",
    "goals",
    "comfort",
    "sessions",
    "minutes",
    "cadence",
    "start",
    "time",
    "timezone",
    "mentor_email",
    "mentee_email",
)

#: What each slot expects, in words a non-developer understands.
HINTS: dict[str, str] = {
    "mentor_name": "Enter the junior mentor's name (up to 120 characters).",
    "mentor_role": "Enter the junior mentor's job title, for example 'Data Analyst' (up to 120 characters).",
    "strengths": "List at most 20 strengths, one per line.",
    "mentee_name": "Enter the senior leader's name (up to 120 characters).",
    "mentee_role": "Enter the senior leader's job title, for example 'Chief Financial Officer' (up to 120 characters).",
    "goals": (
        "Write at least one goal and at most 12, one per line, for example "
        "'use generative AI to draft board reports safely'."
    ),
    "comfort": "Each comfort rating is 1 (new to it) to 5 (fluent).",
    "sessions": "Choose between 1 and 24 sessions.",
    "minutes": "A session lasts between 15 and 180 minutes.",
    "cadence": "Choose how often you meet: weekly, every two weeks or monthly.",
    "start": "Enter the date of the first session as year-month-day, for example 2026-01-12.",
    "time": "Enter the start time as HH:MM on a 24-hour clock, for example 09:30, or leave it empty.",
    "timezone": "Enter a time zone such as Europe/London (needed when a start time is given).",
    "mentor_email": "Enter an email address such as priya.shah@example.com, or leave it empty.",
    "mentee_email": "Enter an email address such as robert.klein@example.com, or leave it empty.",
}

CADENCES: list[tuple[str, str]] = [("Weekly", "weekly"), ("Every two weeks", "biweekly"), ("Monthly", "monthly")]


def slot_for(path: str) -> str | None:
    """The form slot a pair-file field belongs to (`mentee.goals[1]` -> `goals`)."""
    head = path.split("[", 1)[0]
    table = {
        "mentor.name": "mentor_name",
        "mentor.role": "mentor_role",
        "mentor.strengths": "strengths",
        "mentee.name": "mentee_name",
        "mentee.role": "mentee_role",
        "mentee.goals": "goals",
        "mentee.comfort": "comfort",
        "program.sessions": "sessions",
        "program.minutes": "minutes",
        "program.cadence": "cadence",
        "program.start": "start",
        "program.time": "time",
        "program.timezone": "timezone",
        "mentor.email": "mentor_email",
        "mentee.email": "mentee_email",
    }
    if head in table:
        return table[head]
    for key, slot in table.items():
        if head.startswith(key + "."):
            return slot
    return None


@dataclass
class FormResult:
    """A validated pair, or the problems to show next to each field."""

    pair: Pair | None
    errors: dict[str, str] = field(default_factory=dict)
    other: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the pair is valid."""
        return self.pair is not None and not self.errors and not self.other


def form_data(
    mentor_name: str,
    mentor_role: str,
    strengths: str,
    mentee_name: str,
    mentee_role: str,
    goals: str,
    comfort: Sequence[float | int | None],
    sessions: float | int | None,
    minutes: float | int | None,
    cadence: str | None,
    start: str | None,
    time: str | None = "",
    timezone: str | None = "",
    mentor_email: str | None = "",
    mentee_email: str | None = "",
) -> tuple[dict[str, Any], dict[str, str]]:
    """Pair data from the form values, plus the problems found before validation (date, numbers).

    The calendar details (time, time zone, emails) are optional: empty ones are left out of the pair.
    """
    errors: dict[str, str] = {}
    start_value: Any = (start or "").strip()
    try:
        start_value = dt.date.fromisoformat(start_value)
    except ValueError:
        errors["start"] = HINTS["start"]
    rated = {}
    for domain, level in zip(MENTOR_DOMAINS, comfort, strict=False):
        # The form says "leave 3 if you are not sure": 3 is no rating (as a pair file that leaves the domain
        # out), so the plan sets no "comfort rises from 3" measure the senior never gave.
        if level is not None and int(level) != 3:
            rated[domain] = int(level)

    def whole(value: float | int | None, slot: str) -> Any:
        if value is None or float(value) != int(value):
            errors[slot] = HINTS[slot]
            return value
        return int(value)

    data: dict[str, Any] = {
        "mentor": {"name": mentor_name or "", "role": mentor_role or "", "strengths": lines(strengths)},
        "mentee": {"name": mentee_name or "", "role": mentee_role or "", "goals": lines(goals), "comfort": rated},
        "program": {
            "sessions": whole(sessions, "sessions"),
            "minutes": whole(minutes, "minutes"),
            "cadence": cadence or "",
            "start": start_value,
        },
    }
    optional = [
        ("program", "time", time),
        ("program", "timezone", timezone),
        ("mentor", "email", mentor_email),
        ("mentee", "email", mentee_email),
    ]
    for section, key, value in optional:
        if (value or "").strip():
            data[section][key] = (value or "").strip()
    return data, errors


def validate(data: dict[str, Any], early: dict[str, str] | None = None, shown: str = "the form") -> FormResult:
    """Validate pair data; every problem is mapped to its form slot in plain words."""
    from coach.pairs import parse_pair

    errors = dict(early or {})
    other: list[str] = []
    try:
        pair = parse_pair(data, shown)
    except InputErrors as exc:
        for e in exc.errors:
            _place(e, errors, other)
        return FormResult(None, errors, other)
    except InputError as exc:
        _place(exc, errors, other)
        return FormResult(None, errors, other)
    if errors:
        return FormResult(None, errors, other)
    return FormResult(pair, {}, [])


def _place(e: InputError, errors: dict[str, str], other: list[str]) -> None:
    slot = slot_for(e.field)
    if slot is None and e.field and ":" in e.expected:
        # A check across fields names the section and starts its message with the field ("timezone: ...").
        slot = slot_for(f"{e.field}.{e.expected.split(':', 1)[0].strip()}")
    if slot is not None:
        errors.setdefault(slot, HINTS[slot])
    elif e.field:
        other.append(f"'{e.field}' is not something a pair file can contain (check the spelling).")
    else:
        other.append(e.expected)


def pair_to_form(data: dict[str, Any]) -> dict[str, Any]:
    """Form values from (possibly invalid) pair data, so an uploaded file can be fixed in the form."""

    def get(*keys: str) -> Any:
        cur: Any = data
        for k in keys:
            cur = cur.get(k) if isinstance(cur, dict) else None
        return cur

    def as_lines(value: Any) -> str:
        if isinstance(value, list):
            return "\n".join(str(v) for v in value)
        return "" if value is None else str(value)

    comfort = get("mentee", "comfort") or {}
    cadence = get("program", "cadence")
    start = get("program", "start")
    return {
        "mentor_name": str(get("mentor", "name") or ""),
        "mentor_role": str(get("mentor", "role") or ""),
        "strengths": as_lines(get("mentor", "strengths")),
        "mentee_name": str(get("mentee", "name") or ""),
        "mentee_role": str(get("mentee", "role") or ""),
        "goals": as_lines(get("mentee", "goals")),
        "comfort": [
            comfort.get(d, 3) if isinstance(comfort, dict) and isinstance(comfort.get(d, 3), int) else 3
            for d in MENTOR_DOMAINS
        ],
        "sessions": get("program", "sessions") if isinstance(get("program", "sessions"), int) else 6,
        "minutes": get("program", "minutes") if isinstance(get("program", "minutes"), int) else 45,
        "cadence": cadence if cadence in {"weekly", "biweekly", "monthly"} else "biweekly",
        "start": start.isoformat() if isinstance(start, dt.date) else str(start or ""),
        "time": _clock(get("program", "time")),
        "timezone": str(get("program", "timezone") or ""),
        "mentor_email": str(get("mentor", "email") or ""),
        "mentee_email": str(get("mentee", "email") or ""),
    }


def _clock(value: Any) -> str:
    """A pair file's start time as HH:MM (YAML reads 09:30 unquoted as minutes after midnight)."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int):
        return f"{value // 60:02d}:{value % 60:02d}"
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    text = str(value).strip()
    # A stored pair's JSON writes 09:30:00; the form asks for HH:MM.
    return text[:5] if len(text) == 8 and text[2] == ":" and text[5] == ":" else text


def next_monday(today: dt.date | None = None) -> dt.date:
    """The Monday after today (the form's default start date)."""
    today = today or dt.date.today()
    return today + dt.timedelta(days=7 - today.weekday())
