"""Bad pair files: exit code 2, a message naming file and field, and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from coach.cli import cli
from coach.errors import InputError
from coach.pairs import load_pair

GOOD = {
    "mentor": {"name": "Ana", "role": "Analyst", "strengths": ["Excel"]},
    "mentee": {"name": "Bo", "role": "COO", "goals": ["use Teams well"], "comfort": {"collaboration-tools": 2}},
    "program": {"sessions": 3, "minutes": 30, "cadence": "weekly", "start": "2026-02-02"},
}


def write(tmp_path: Path, data: object, name: str = "pair.yaml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


def with_change(section: str, key: str, value: object) -> dict:
    data = {k: dict(v) for k, v in GOOD.items()}
    data[section][key] = value
    return data


def test_good_pair_loads(tmp_path: Path) -> None:
    pair = load_pair(write(tmp_path, GOOD))
    assert pair.program.sessions == 3
    assert pair.mentee.comfort == {"collaboration-tools": 2}


CASES = [
    # The keys allowed where the typo is, in place of a pointer to a document users do not have.
    ("unknown key", with_change("mentee", "goalz", ["x"]), "mentee.goalz", "allowed here: comfort, email, goals, name"),
    ("unknown top key", {**GOOD, "programme": {}}, "programme", "allowed here: mentee, mentor, program"),
    ("sessions 0", with_change("program", "sessions", 0), "program.sessions", "greater than or equal to 1"),
    ("sessions 25", with_change("program", "sessions", 25), "program.sessions", "less than or equal to 24"),
    ("minutes 14", with_change("program", "minutes", 14), "program.minutes", "greater than or equal to 15"),
    ("minutes 181", with_change("program", "minutes", 181), "program.minutes", "less than or equal to 180"),
    ("cadence", with_change("program", "cadence", "daily"), "program.cadence", "weekly"),
    ("domain", with_change("mentee", "comfort", {"tiktok": 2}), "mentee.comfort.tiktok", "generative-ai"),
    ("comfort range", with_change("mentee", "comfort", {"social-media": 9}), "mentee.comfort", "1 (new to it) to 5"),
    ("date", with_change("program", "start", "2026-13-40"), "program.start", "date"),
    ("time", with_change("program", "time", "25:99"), "program.time", "HH:MM"),
    (
        "zone",
        {
            **with_change("program", "time", "09:30"),
            "program": {**GOOD["program"], "time": "09:30", "timezone": "Mars/Olympus"},
        },
        "program.timezone",
        "IANA",
    ),
    ("email", with_change("mentor", "email", "not-an-address"), "mentor.email", "email address"),
    ("no goals", with_change("mentee", "goals", []), "mentee.goals", "at least 1"),
    ("missing mentor", {k: v for k, v in GOOD.items() if k != "mentor"}, "mentor", "required"),
]


@pytest.mark.parametrize(("label", "data", "field", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_pair_exit_2_names_file_and_field(
    tmp_path: Path, label: str, data: dict, field: str, expected: str
) -> None:
    path = write(tmp_path, data)
    out = tmp_path / "plan.json"
    result = CliRunner().invoke(cli, ["plan", "--pair", str(path), "--format", "json", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert str(path) in result.output
    assert field in result.output
    assert expected in result.output
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [path]  # no partial or temp file either


def test_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["plan", "--pair", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "nope.yaml" in result.output and "does not exist" in result.output


def test_not_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, "mentor: [unclosed\n  - : :")
    with pytest.raises(InputError, match="expected YAML"):
        load_pair(path)
    result = CliRunner().invoke(cli, ["plan", "--pair", str(path)])
    assert result.exit_code == 2


def test_top_level_not_mapping(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="expected a mapping"):
        load_pair(write(tmp_path, "- just\n- a list\n"))


def test_unquoted_impossible_date_exits_2_naming_program_start(tmp_path: Path) -> None:
    """YAML itself turns `start: 2026-13-45` into an error ("month must be in 1..12") naming no field."""
    text = yaml.safe_dump({k: v for k, v in GOOD.items() if k != "program"}) + (
        "program:\n  sessions: 3\n  minutes: 30\n  cadence: weekly\n  start: 2026-13-45\n"
    )
    path = write(tmp_path, text)
    result = CliRunner().invoke(cli, ["plan", "--pair", str(path), "--format", "json"])
    assert result.exit_code == 2, result.output
    assert str(path) in result.output and "program.start" in result.output
    assert "2026-13-45" in result.output and "Traceback" not in result.output


def test_time_timezone_and_email_are_read(tmp_path: Path) -> None:
    import datetime as dt

    data = {k: dict(v) for k, v in GOOD.items()}
    data["program"].update(time="09:30", timezone="Europe/London")
    data["mentor"]["email"] = "ana@example.com"
    pair = load_pair(write(tmp_path, data))
    assert pair.program.time == dt.time(9, 30) and pair.program.timezone == "Europe/London"
    assert pair.mentor.email == "ana@example.com" and pair.mentee.email is None
    # YAML 1.1 reads an unquoted 9:30 as the number 570 (base 60): still half past nine.
    text = yaml.safe_dump(GOOD).replace("start: '2026-02-02'", "start: '2026-02-02'\n  time: 9:30\n  timezone: UTC")
    assert load_pair(write(tmp_path, text, "p2.yaml")).program.time == dt.time(9, 30)
    # A time without its zone is refused, naming the zone.
    data["program"].pop("timezone")
    with pytest.raises(InputError, match="timezone"):
        load_pair(write(tmp_path, data, "p3.yaml"))
