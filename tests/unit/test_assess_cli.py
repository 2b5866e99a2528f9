"""`coach assess FILE`: a CSV of paper or survey assessments is stored whole, or exits 2 naming file, line, column."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_store import make_pair

from coach.cli import cli

HEADER = "pair,side,kind,followup_months,date,comfort,goals,used_at_work,example,recommend\n"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def pid() -> str:
    from coach.config import load_settings
    from coach.store import open_store

    return open_store(load_settings()).add_pair(make_pair())


def stored(pair_id: str) -> list:
    from coach.config import load_settings
    from coach.store import open_store

    return open_store(load_settings()).assessments(pair_id)


def test_imports_every_row(tmp_path: Path, pid: str) -> None:
    f = tmp_path / "survey.csv"
    f.write_text(
        HEADER + f"{pid},mentee,baseline,,2026-01-05,generative-ai=1;data-literacy=2,1=-1,,,\n"
        f"{pid},mentee,closing,,2026-03-02,generative-ai=4,1=2;2=0,,,9\n"
        f'{pid},mentor,followup,3,2026-06-01,,,yes,"used Copilot, weekly",\n'
    )
    code, out, err = invoke("assess", str(f), "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["stored"] == 3 and [r["slot"] for r in data["rows"]] == ["baseline", "closing", "followup-3m"]
    got = stored(pid)
    assert [(a.side, a.slot) for a in got] == [("mentee", "baseline"), ("mentee", "closing"), ("mentor", "followup-3m")]
    assert got[0].comfort == {"generative-ai": 1, "data-literacy": 2} and got[1].goals == {1: 2, 2: 0}
    assert got[1].recommend == 9 and got[2].used_at_work is True and got[2].example == "used Copilot, weekly"
    assert got[0].entered_by == "csv:survey.csv"
    code, out, _ = invoke("report", "--format", "json")
    outcomes = json.loads(out)["pairs"][0]["outcomes"]
    assert outcomes["comfort_gain"] == {"generative-ai": 3} and outcomes["gas_t"] == 62.4
    # The pair's export (right of access) carries its assessments.
    code, out, _ = invoke("pair", "export", pid, "--format", "json")
    exported = json.loads(out)["assessments"]
    assert [(a["side"], a["kind"], a["followup_months"]) for a in exported] == [
        ("mentee", "baseline", None),
        ("mentee", "closing", None),
        ("mentor", "followup", 3),
    ]


def test_the_same_file_imported_twice_is_stored_once(tmp_path: Path, pid: str) -> None:
    rows = (
        f"{pid},mentee,baseline,,2026-01-05,generative-ai=1,1=-1,,,\n"
        f"{pid},mentee,closing,,2026-03-02,generative-ai=4,1=2,,,9\n"
    )
    f = tmp_path / "survey.csv"
    f.write_text(HEADER + rows)
    code, out, err = invoke("assess", str(f))
    assert code == 0, err
    assert out.strip() == f"stored 2 assessments from {f}"
    # The same answers again, a new answer for the closing slot (line 4) and line 2 repeated (line 5).
    f.write_text(HEADER + rows + f"{pid},mentee,closing,,2026-03-09,generative-ai=5,1=2,,,10\n" + rows.splitlines()[0])
    code, out, err = invoke("assess", str(f), "--dry-run")
    assert code == 0, err
    assert f"would store 1 assessment from {f}" in out
    assert (
        "would skip 3 with the same answers: line 2 (already stored), line 3 (already stored), line 5 (already stored)"
        in out
    )
    assert "line 4 would give new answers for a slot already assessed: the latest counts" in out
    assert len(stored(pid)) == 2  # a dry run stores nothing
    code, out, err = invoke("assess", str(f), "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["stored"], data["skipped"]) == (1, 3)
    assert [r["skipped"] for r in data["rows"]] == ["already stored", "already stored", None, "already stored"]
    assert [r["replaces_earlier"] for r in data["rows"]] == [False, False, True, False]
    assert [a.assessed_on.isoformat() for a in stored(pid)] == ["2026-01-05", "2026-03-02", "2026-03-09"]
    # A row repeated within a new file is named as such.
    g = tmp_path / "followups.csv"
    row = f"{pid},mentor,followup,3,2026-06-01,,,yes,weekly,\n"
    g.write_text(HEADER + row + row)
    code, out, _ = invoke("assess", str(g))
    assert (
        code == 0 and "stored 1 assessment" in out and "skipped 1 with the same answers: line 3 (same as line 2)" in out
    )
    # The same answers typed in the app (another person, another time) are a new row: history is kept there.
    from coach.assessments import AssessmentIn
    from coach.config import load_settings
    from coach.store import open_store

    again = AssessmentIn("mentee", "baseline", None, dt.date(2026, 1, 5), {"generative-ai": 1}, {1: -1})
    open_store(load_settings()).add_assessment(pid, again, "admin")
    assert len(stored(pid)) == 5


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("{pid},mentee,baseline,,2026-01-05,generative-ai=7,,,,", "comfort"),
        ("{pid},mentee,baseline,,2026-01-05,cooking=3,,,,", "comfort"),
        ("{pid},mentee,baseline,,2026-01-05,generative-ai:3,,,,", "comfort"),
        ("{pid},mentee,baseline,,2026-01-05,,5=1,,,", "goals"),
        ("{pid},mentee,baseline,,2026-01-05,,1=-3,,,", "goals"),
        ("{pid},boss,baseline,,2026-01-05,generative-ai=3,,,,", "side"),
        ("{pid},mentee,midterm,,2026-01-05,generative-ai=3,,,,", "kind"),
        ("{pid},mentee,followup,6,2026-01-05,,,yes,,", "followup_months"),
        ("{pid},mentee,followup,3,2026-01-05,,,maybe,,", "used_at_work"),
        ("{pid},mentee,closing,,2026-01-05,generative-ai=3,,,,11", "recommend"),
        ("{pid},mentee,baseline,,5 Jan 2026,generative-ai=3,,,,", "date"),
        ("nosuchpair,mentee,baseline,,2026-01-05,generative-ai=3,,,,", "pair"),
    ],
)
def test_a_bad_cell_names_file_line_column_and_stores_nothing(tmp_path: Path, pid: str, row: str, column: str) -> None:
    f = tmp_path / "bad.csv"
    good = f"{pid},mentee,baseline,,2026-01-05,generative-ai=2,,,,\n"
    f.write_text(HEADER + good + row.format(pid=pid) + "\n")
    code, _, err = invoke("assess", str(f))
    assert code == 2, err
    assert f"{f} line 3: {column}:" in err
    assert stored(pid) == []  # the good first row is not stored either


def test_bad_files_exit_2(tmp_path: Path, pid: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert invoke("assess", str(tmp_path / "missing.csv"))[0] == 2
    f = tmp_path / "a.csv"
    f.write_text("pair,side,kind,colour\n")
    code, _, err = invoke("assess", str(f))
    assert code == 2 and "line 1: colour" in err
    f.write_text(HEADER)
    assert invoke("assess", str(f))[0] == 2  # no rows
    monkeypatch.setattr("coach.limits.CSV_ROWS", 2)
    f.write_text(HEADER + f"{pid},mentee,baseline,,2026-01-05,generative-ai=2,,,,\n" * 3)
    code, _, err = invoke("assess", str(f))
    assert code == 2 and "at most 2 rows" in err
    assert stored(pid) == []


def test_dry_run_stores_nothing(tmp_path: Path, pid: str) -> None:
    f = tmp_path / "ok.csv"
    f.write_text(HEADER + f"{pid},mentor,baseline,,2026-01-05,strategy-context=2,,,,\n")
    code, out, err = invoke("assess", str(f), "--dry-run")
    assert code == 0 and "would store 1 assessment" in out, err
    assert stored(pid) == []
