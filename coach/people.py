"""Read the people file (SPEC.md section 9) and the history of earlier pairs.

A people file lists who joins a cohort before any pair exists: juniors, who teach digital
skills, and seniors, the leaders who learn. YAML as in the SPEC, or a CSV with the same columns
(lists `;`-separated, comfort as `domain=N;domain=N`). It is validated like a pair file: unknown
keys, a duplicate id, a `do_not_pair` naming nobody in the file, a capacity outside 1..2 or an
unknown side are bad input (exit 2) and the message names the file and the field.

Two optional additions to the SPEC's keys: `weights` (how much each matching criterion counts,
`must`/`high`/`medium`/`low`/`off`), and, for a CSV, no `cohort`/`program` (they are YAML-only).

A history file lists pairs made in earlier cohorts, which are never made again: the JSON that
`coach match --format json` printed, a YAML `{pairs: [{mentor: j1, mentee: s1}]}` or a CSV with
`mentor` and `mentee` columns (person ids).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from coach import limits
from coach.errors import InputError, InputErrors, field_path
from coach.models import Domain, GoalText, PlainName, PlainRole, Program, Strict, check_comfort

#: A person id: what `do_not_pair`, `manager`, `--lock` and the output use.
PERSON_ID = r"^[A-Za-z0-9_-]{1,40}$"
PERSON_ID_RE = re.compile(PERSON_ID)
#: The matching criteria an admin can weight, and what each one measures.
CRITERIA: dict[str, str] = {
    "teaches": "the junior's strengths serve the senior's goals",
    "comfort": "the junior's strengths cover domains where the senior's comfort is low (1-2)",
    "learns": "the senior's strengths serve the junior's goals",
}
#: Weight levels: relative weights, normalised so a pair's score runs 0..100. `must` also makes the
#: criterion a requirement: a pair that earns nothing on it is not proposed.
LEVELS: dict[str, int] = {"must": 4, "high": 3, "medium": 2, "low": 1, "off": 0}
DEFAULT_WEIGHTS: dict[str, str] = {"teaches": "high", "comfort": "medium", "learns": "medium"}
MAX_BYTES = 5_000_000
MAX_PEOPLE = 10_000
#: YAML values allowed in a people file (about 40 per person is plenty).
MAX_NODES = 40 * MAX_PEOPLE
CSV_COLUMNS = ("id", "name", "role", "side", "manager", "strengths", "goals", "comfort", "capacity", "do_not_pair")

Side = Literal["junior", "senior"]
Level = Literal["must", "high", "medium", "low", "off"]


class Person(Strict):
    """One person joining the cohort (SPEC.md section 9)."""

    id: str = Field(pattern=PERSON_ID)
    name: PlainName
    role: PlainRole
    side: Side
    manager: str | None = Field(default=None, pattern=PERSON_ID)
    strengths: list[GoalText] = Field(default_factory=list, max_length=limits.STRENGTHS_MAX)
    goals: list[GoalText] = Field(default_factory=list, max_length=limits.GOALS_MAX)
    comfort: dict[Domain, int] = Field(default_factory=dict)
    capacity: int = Field(default=1, ge=1, le=2)
    do_not_pair: list[str] = Field(default_factory=list, max_length=200)

    @field_validator("comfort")
    @classmethod
    def _comfort_range(cls, value: dict[str, int]) -> dict[str, int]:
        return check_comfort(value)

    @field_validator("do_not_pair")
    @classmethod
    def _ids(cls, value: list[str]) -> list[str]:
        for item in value:
            if not PERSON_ID_RE.match(item):
                raise ValueError(f"person ids ([A-Za-z0-9_-], 1..40 characters), got {item!r}")
        return value

    @model_validator(mode="after")
    def _side_fields(self) -> Person:
        if self.side == "junior" and self.comfort:
            raise ValueError("comfort rates a senior's comfort per domain; a junior has none")
        if self.side == "senior" and self.capacity != 1:
            raise ValueError("capacity is for juniors (how many seniors they mentor); a senior has one mentor")
        return self

    @property
    def texts(self) -> list[str]:
        """Every free-text phrase of this person."""
        return [*self.strengths, *self.goals]


class PeopleFile(Strict):
    """The whole people file: optional cohort, program settings and criterion weights, and the people."""

    cohort: str | None = Field(default=None, min_length=1, max_length=80)
    program: Program | None = None
    weights: dict[Literal["teaches", "comfort", "learns"], Level] = Field(default_factory=dict)
    people: list[Person] = Field(min_length=1, max_length=MAX_PEOPLE)

    @property
    def juniors(self) -> list[Person]:
        """The juniors, in file order."""
        return [p for p in self.people if p.side == "junior"]

    @property
    def seniors(self) -> list[Person]:
        """The seniors, in file order."""
        return [p for p in self.people if p.side == "senior"]

    def by_id(self) -> dict[str, Person]:
        """Every person by id."""
        return {p.id: p for p in self.people}


# --------------------------------------------------------------------------- reading


def _read_text(path: Path, what: str) -> str:
    shown = str(path)
    if not path.is_file():
        raise InputError(shown, "", f"expected {what}, but it does not exist")
    if path.stat().st_size > MAX_BYTES:
        raise InputError(shown, "", f"expected {what} of at most {MAX_BYTES // 1_000_000} MB")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(shown, "", "expected a UTF-8 text file") from None


def _cross_check(people: list[Person], locate: Callable[[int, str], tuple[str, str]]) -> list[InputError]:
    """Rules across people: unique ids, `do_not_pair` and `manager` that make sense.

    Args:
        people: The validated people, in file order.
        locate: (index, field) -> (file, field) for error messages (YAML paths or CSV lines).
    """
    errors: list[InputError] = []
    first: dict[str, int] = {}
    for i, p in enumerate(people):
        if p.id in first:
            file, field = locate(first[p.id], "id")
            here = locate(i, "id")
            earlier = field if file == here[0] else file.removeprefix(f"{here[0].split(' line ')[0]} ")
            errors.append(InputError(*here, f"a unique id, but {p.id!r} is also used at {earlier}"))
        else:
            first[p.id] = i
    for i, p in enumerate(people):
        for k, other_id in enumerate(p.do_not_pair):
            if other_id not in first:
                errors.append(
                    InputError(*locate(i, f"do_not_pair[{k}]"), f"the id of a person in this file, got {other_id!r}")
                )
            elif other_id == p.id:
                errors.append(InputError(*locate(i, f"do_not_pair[{k}]"), "someone else's id, not their own"))
        if p.manager == p.id:
            errors.append(InputError(*locate(i, "manager"), "their line manager's id, not their own"))
    return errors


def _errors_from(exc: Any, shown: str, rename: Any = None) -> list[InputError]:
    """InputErrors from a pydantic ValidationError; `rename` maps a location to (file, field)."""
    out: list[InputError] = []
    for err in exc.errors(include_url=False):
        loc = tuple(part for part in err["loc"] if part != "[key]")
        file, field = rename(loc) if rename else (shown, field_path(loc))
        kind = err["type"]
        if kind == "extra_forbidden":
            expected = f"unknown key (check the spelling; allowed keys: {', '.join(_allowed(loc))})"
        elif kind == "missing":
            expected = "required but missing"
        else:
            msg = str(err["msg"]).removeprefix("Value error, ")
            got = repr(err.get("input"))
            got = got if len(got) <= 80 else got[:77] + "..."
            expected = f"{msg} (got {got})" if kind != "value_error" else msg
        out.append(InputError(file, field, expected))
    return out


def _allowed(loc: tuple[Any, ...]) -> list[str]:
    if len(loc) >= 3 and loc[0] == "people":
        return list(Person.model_fields)
    if len(loc) >= 2 and loc[0] == "program":
        return list(Program.model_fields)
    return list(PeopleFile.model_fields)


def parse_people(data: Any, shown: str) -> PeopleFile:
    """Validate already-parsed people data (a YAML mapping); `shown` names the source in errors."""
    from pydantic import ValidationError

    if not isinstance(data, dict):
        raise InputError(shown, "", "expected a mapping with the key people (and optionally cohort and program)")
    try:
        people = PeopleFile.model_validate(data)
    except ValidationError as exc:
        raise InputErrors(_errors_from(exc, shown)) from None
    errors = _cross_check(people.people, lambda i, sub: (shown, f"people[{i}].{sub}"))
    if errors:
        raise InputErrors(errors)
    return people


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def _csv_comfort(value: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in _split(value):
        key, sep, level = item.partition("=")
        if not sep or not key.strip() or not level.strip():
            raise ValueError(f"domain=N pairs separated by ';', such as 'generative-ai=1;social-media=2', got {item!r}")
        out[key.strip()] = level.strip()
    return out


def parse_people_csv(text: str, shown: str) -> PeopleFile:
    """Validate a people CSV (one row per person, SPEC.md section 9 columns); errors name line and column."""

    from pydantic import ValidationError

    from coach import csv_input

    table, errors = csv_input.rows(text, shown, CSV_COLUMNS, ("id", "name", "side"))
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    for start, cells in table:
        where = f"{shown} line {start}"
        if len(rows) >= MAX_PEOPLE:
            errors.append(InputError(where, "", f"at most {MAX_PEOPLE} people in one file"))
            break
        row: dict[str, Any] = {}
        for key, cell in cells.items():
            cell = cell.strip()
            if not cell:
                continue
            if key in ("strengths", "goals", "do_not_pair"):
                row[key] = _split(cell)
            elif key == "comfort":
                try:
                    row[key] = _csv_comfort(cell)
                except ValueError as exc:
                    errors.append(InputError(where, "comfort", str(exc)))
            else:
                row[key] = cell.lower() if key == "side" else cell
        rows.append(row)
        lines.append(start)
    if errors:
        raise InputErrors(errors)
    if not rows:
        raise InputError(shown, "", "at least one person row after the header")

    def rename(loc: tuple[Any, ...]) -> tuple[str, str]:
        if len(loc) >= 2 and loc[0] == "people" and isinstance(loc[1], int):
            return f"{shown} line {lines[loc[1]]}", field_path(loc[2:]) or "(row)"
        return shown, field_path(loc)

    try:
        people = PeopleFile.model_validate({"people": rows})
    except ValidationError as exc:
        raise InputErrors(_errors_from(exc, shown, rename)) from None
    errors = _cross_check(people.people, lambda i, sub: (f"{shown} line {lines[i]}", sub))
    if errors:
        raise InputErrors(errors)
    return people


def load_people(path: str | Path) -> PeopleFile:
    """Load and validate a people file, YAML or CSV (by extension); raises InputError naming file and field.

    Args:
        path: A `.yaml`/`.yml` or `.csv` file (SPEC.md section 9).

    Returns:
        The validated people file.
    """
    import yaml

    from coach.safe_yaml import check_shape

    path = Path(path)
    shown = str(path)
    text = _read_text(path, "a people file (YAML or CSV)")
    if path.suffix.lower() == ".csv":
        return parse_people_csv(text, shown)
    check_shape(text, shown, nodes=MAX_NODES)  # no aliases, bounded depth and size, before parsing
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise InputError(shown, "", f"expected YAML ({str(exc).splitlines()[0]})") from None
    return parse_people(data, shown)


# --------------------------------------------------------------------------- weights and history


def parse_weights(text: str, shown: str = "--weights") -> dict[str, str]:
    """Parse `teaches=must,learns=low` into criterion -> level; raises InputError on anything else."""
    out: dict[str, str] = {}
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        key, sep, level = (s.strip().lower() for s in item.partition("="))
        if not sep or key not in CRITERIA or level not in LEVELS:
            raise InputError(
                shown,
                key or "weights",
                f"criterion=level pairs separated by ',' (criteria {', '.join(CRITERIA)}; "
                f"levels {', '.join(LEVELS)}), got {item!r}",
            )
        out[key] = level
    return out


def load_history(path: str | Path) -> set[tuple[str, str]]:
    """Earlier pairs as (mentor id, mentee id): never made again.

    Args:
        path: JSON printed by `coach match --format json`, YAML `{pairs: [{mentor, mentee}]}`, or a CSV with
            `mentor` and `mentee` columns. Ids of people no longer in the file are fine (people leave).
    """
    import csv
    import json

    import yaml

    from coach.safe_yaml import check_shape

    path = Path(path)
    shown = str(path)
    text = _read_text(path, "a history file (JSON, YAML or CSV of earlier pairs)")
    rows: list[Any]
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        fields = [f.strip().lower() for f in reader.fieldnames or []]
        if "mentor" not in fields or "mentee" not in fields:
            raise InputError(shown, "line 1", "a header with the columns mentor and mentee")
        rows = [{k.strip().lower(): (v or "").strip() for k, v in r.items() if k} for r in reader]
    else:
        try:
            if path.suffix.lower() == ".json":
                data = json.loads(text)
            else:
                check_shape(text, shown, nodes=MAX_NODES)
                data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except (ValueError, yaml.YAMLError) as exc:
            raise InputError(shown, "", f"expected JSON or YAML ({str(exc).splitlines()[0]})") from None
        if not isinstance(data, dict) or not isinstance(data.get("pairs"), list):
            raise InputError(shown, "pairs", "a list of earlier pairs, each with mentor and mentee ids")
        rows = data["pairs"]
    out: set[tuple[str, str]] = set()
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise InputError(shown, f"pairs[{i}]", "a mapping with mentor and mentee ids")
        mentor, mentee = str(row.get("mentor") or "").strip(), str(row.get("mentee") or "").strip()
        for key, value in (("mentor", mentor), ("mentee", mentee)):
            if not PERSON_ID_RE.match(value):
                raise InputError(shown, f"pairs[{i}].{key}", f"a person id ([A-Za-z0-9_-]), got {value!r}")
        out.add((mentor, mentee))
    return out
