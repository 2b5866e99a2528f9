"""People files (SPEC.md section 9): YAML and CSV read alike; bad files name the file and field and exit 2."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from support import ROOT

from coach.errors import InputError, InputErrors
from coach.people import load_history, load_people, parse_weights

GOOD = {
    "cohort": "spring-2027",
    "program": {"sessions": 6, "minutes": 60, "cadence": "biweekly", "start": "2027-03-01"},
    "people": [
        {
            "id": "j1",
            "name": "Priya Nair",
            "role": "Graduate Analyst",
            "side": "junior",
            "manager": "s3",
            "strengths": ["ChatGPT", "Copilot in Excel"],
            "goals": ["understand how the board decides on budgets"],
            "capacity": 2,
            "do_not_pair": ["s2"],
        },
        {
            "id": "s1",
            "name": "Robert Klein",
            "role": "CFO",
            "side": "senior",
            "goals": ["draft budget commentary with AI"],
            "comfort": {"generative-ai": 1},
        },
        {"id": "s2", "name": "Ana Lopez", "role": "COO", "side": "senior", "goals": ["use Teams well"]},
    ],
}


def write(tmp_path: Path, data: object, name: str = "people.yaml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def changed(index: int, key: str, value: object) -> dict:
    data = copy.deepcopy(GOOD)
    if value is None:
        data["people"][index].pop(key, None)
    else:
        data["people"][index][key] = value
    return data


def test_good_yaml_loads(tmp_path: Path) -> None:
    people = load_people(write(tmp_path, GOOD))
    assert people.cohort == "spring-2027"
    assert people.program is not None and people.program.sessions == 6
    assert [p.id for p in people.juniors] == ["j1"]
    assert [p.id for p in people.seniors] == ["s1", "s2"]
    assert people.juniors[0].capacity == 2
    assert people.seniors[0].capacity == 1  # the default
    assert people.seniors[0].comfort == {"generative-ai": 1}


def test_example_people_file_is_valid() -> None:
    people = load_people(ROOT / "examples" / "people.yaml")
    assert people.juniors and people.seniors
    assert people.program is not None


CASES = [
    ("duplicate id", changed(2, "id", "s1"), "people[2].id", "unique id"),
    ("do_not_pair nobody", changed(0, "do_not_pair", ["s9"]), "people[0].do_not_pair[0]", "person in this file"),
    ("do_not_pair self", changed(0, "do_not_pair", ["j1"]), "people[0].do_not_pair[0]", "not their own"),
    ("capacity 0", changed(0, "capacity", 0), "people[0].capacity", "greater than or equal to 1"),
    ("capacity 3", changed(0, "capacity", 3), "people[0].capacity", "less than or equal to 2"),
    ("unknown side", changed(0, "side", "mentor"), "people[0].side", "'junior' or 'senior'"),
    ("unknown key", changed(0, "strenghts", ["x"]), "people[0].strenghts", "unknown key"),
    ("bad id", changed(0, "id", "j 1"), "people[0].id", "pattern"),
    ("long id", changed(0, "id", "j" * 41), "people[0].id", "pattern"),
    ("comfort domain", changed(1, "comfort", {"tiktok": 2}), "people[1].comfort.tiktok", "generative-ai"),
    ("comfort range", changed(1, "comfort", {"social-media": 6}), "people[1].comfort", "1 (new to it) to 5"),
    ("comfort on a junior", changed(0, "comfort", {"social-media": 2}), "people[0]", "a junior has none"),
    ("capacity on a senior", changed(1, "capacity", 2), "people[1]", "capacity is for juniors"),
    ("too many goals", changed(1, "goals", [f"goal {i}" for i in range(13)]), "people[1].goals", "at most 12"),
    ("long phrase", changed(0, "strengths", ["x" * 301]), "people[0].strengths[0]", "at most 300"),
    ("control character", changed(0, "name", "Priya\x1b[31m"), "people[0].name", "control characters"),
    ("no role", changed(0, "role", None), "people[0].role", "required"),
    ("empty name", changed(0, "name", ""), "people[0].name", "at least 1"),
    ("missing side", changed(0, "side", None), "people[0].side", "required"),
    ("manager self", changed(0, "manager", "j1"), "people[0].manager", "not their own"),
]


@pytest.mark.parametrize(("label", "data", "field", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_yaml_names_file_and_field(tmp_path: Path, label: str, data: dict, field: str, expected: str) -> None:
    path = write(tmp_path, data)
    with pytest.raises(InputError) as info:
        load_people(path)
    errors = info.value.errors if isinstance(info.value, InputErrors) else [info.value]
    assert any(e.file == str(path) and e.field == field and expected in e.expected for e in errors), [
        str(e) for e in errors
    ]


def test_top_level_problems(tmp_path: Path) -> None:
    for data, field, expected in [
        ({**GOOD, "cohrt": "x"}, "cohrt", "unknown key"),
        ({**GOOD, "people": []}, "people", "at least 1"),
        ({**GOOD, "program": {**GOOD["program"], "cadence": "daily"}}, "program.cadence", "weekly"),
        ({**GOOD, "weights": {"teaches": "urgent"}}, "weights.teaches", "must"),
        ({k: v for k, v in GOOD.items() if k != "people"}, "people", "required"),
    ]:
        with pytest.raises(InputError) as info:
            load_people(write(tmp_path, data))
        assert any(e.field == field and expected in e.expected for e in info.value.errors), str(info.value)
    for text, expected in [("- just\n- a list\n", "mapping"), ("people: [\n", "expected YAML")]:
        with pytest.raises(InputError, match=expected):
            load_people(write(tmp_path, text))
    with pytest.raises(InputError, match="does not exist"):
        load_people(tmp_path / "missing.yaml")


CSV_GOOD = """id,name,role,side,manager,strengths,goals,comfort,capacity,do_not_pair
j1,Priya Nair,Graduate Analyst,junior,s3,ChatGPT; Copilot in Excel,understand how the board decides on budgets,,2,s2
s1,Robert Klein,CFO,senior,,,draft budget commentary with AI;read dashboards,generative-ai=1;data-literacy=2,,
s2,Ana Lopez,COO,Senior,,,use Teams well,,,
"""


def test_csv_reads_like_yaml(tmp_path: Path) -> None:
    people = load_people(write(tmp_path, CSV_GOOD, "people.csv"))
    j1, s1, s2 = people.people
    assert j1.strengths == ["ChatGPT", "Copilot in Excel"]
    assert j1.capacity == 2 and j1.do_not_pair == ["s2"] and j1.manager == "s3"
    assert s1.comfort == {"generative-ai": 1, "data-literacy": 2}
    assert s1.goals == ["draft budget commentary with AI", "read dashboards"]
    assert s2.side == "senior"
    assert people.program is None


@pytest.mark.parametrize(
    ("text", "where", "field", "expected"),
    [
        (CSV_GOOD.replace(",2,s2", ",3,s2"), "line 2", "capacity", "less than or equal to 2"),
        (CSV_GOOD.replace(",2,s2", ",2,s9"), "line 2", "do_not_pair[0]", "person in this file"),
        (CSV_GOOD.replace("s2,Ana", "s1,Ana"), "line 4", "id", "also used at line 3"),
        (CSV_GOOD.replace("COO,Senior", "COO,boss"), "line 4", "side", "'junior' or 'senior'"),
        (CSV_GOOD.replace("generative-ai=1", "generative-ai:1"), "line 3", "comfort", "domain=N"),
        (CSV_GOOD.replace("do_not_pair\n", "do_not_pair,extra\n"), "line 1", "extra", "a known column"),
        (
            CSV_GOOD.replace("id,name", "name", 1).replace("\nj1,", "\n").replace("\ns1,", "\n").replace("\ns2,", "\n"),
            "line 1",
            "id",
            "required column",
        ),
        (CSV_GOOD.replace("use Teams well,,,", "use Teams well,,"), "line 4", "", "cells like the header"),
    ],
)
def test_bad_csv_names_line_and_column(tmp_path: Path, text: str, where: str, field: str, expected: str) -> None:
    path = write(tmp_path, text, "people.csv")
    with pytest.raises(InputError) as info:
        load_people(path)
    errors = info.value.errors if isinstance(info.value, InputErrors) else [info.value]
    assert any(e.file == f"{path} {where}" and e.field == field and expected in e.expected for e in errors), [
        str(e) for e in errors
    ]


def test_weights_parse() -> None:
    assert parse_weights("teaches=must, learns=low") == {"teaches": "must", "learns": "low"}
    for bad in ("teaches", "speed=high", "teaches=urgent"):
        with pytest.raises(InputError, match="criterion=level"):
            parse_weights(bad)


def test_history_formats(tmp_path: Path) -> None:
    json_file = tmp_path / "earlier.json"
    json_file.write_text('{"pairs": [{"mentor": "j1", "mentee": "s1", "score": 50.0}], "unmatched": []}')
    yaml_file = write(tmp_path, {"pairs": [{"mentor": "j2", "mentee": "s2"}]}, "earlier.yaml")
    csv_file = write(tmp_path, "mentor,mentee\nj3,s3\n", "earlier.csv")
    assert load_history(json_file) == {("j1", "s1")}
    assert load_history(yaml_file) == {("j2", "s2")}
    assert load_history(csv_file) == {("j3", "s3")}
    with pytest.raises(InputError, match=r"pairs\[0\]\.mentee"):
        load_history(write(tmp_path, {"pairs": [{"mentor": "j1", "mentee": "not ok"}]}, "bad.yaml"))
    with pytest.raises(InputError, match="mentor and mentee"):
        load_history(write(tmp_path, "a,b\n1,2\n", "bad.csv"))


def test_yaml_aliases_are_refused(tmp_path: Path) -> None:
    bomb = 'a: &a ["x", "x"]\nb: &b [*a, *a]\npeople: [*b, *b]\n'
    with pytest.raises(InputError, match="anchors and aliases"):
        load_people(write(tmp_path, bomb))
