"""Hostile input is refused early and cheaply: alias bombs, deep nesting, huge values (issue 18)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from coach.errors import InputError
from coach.limits import excerpt
from coach.safe_yaml import loads


def alias_bomb(levels: int = 9) -> str:
    """A 'billion laughs' pair file: each level repeats the previous one nine times."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{','.join([prev] * 9)}]")
    lines.append(
        "mentor: {name: X, role: Y}\n"
        f"mentee: {{name: Z, role: W, goals: *a{levels - 1}}}\n"
        "program: {sessions: 4, minutes: 60, cadence: weekly, start: 2027-01-04}"
    )
    return "\n".join(lines) + "\n"


def deep(levels: int) -> str:
    return "mentor: " + "[" * levels + "]" * levels + "\n"


def test_alias_bomb_is_small_and_refused() -> None:
    text = alias_bomb()
    assert len(text.encode()) <= 700
    with pytest.raises(InputError, match="aliases"):
        loads(text, "bomb.yaml")


def test_plain_anchor_is_refused_too() -> None:
    with pytest.raises(InputError, match="anchors"):
        loads("a: &x 1\nb: 2\n", "f.yaml")


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(InputError, match="nesting deeper"):
        loads(deep(5000), "deep.yaml")
    assert loads(deep(5), "ok.yaml") == {"mentor": [[[[[]]]]]}


def test_oversized_text_is_refused() -> None:
    with pytest.raises(InputError, match="larger than"):
        loads("a: " + "x" * 300_000, "big.yaml")


def test_excerpt_is_short_and_printable() -> None:
    out = excerpt("\x1b[31mred" + "x" * 10_000)
    assert len(out) < 70 and "\x1b" not in out


# VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork and exec, so a child of a large pytest
# process would report the parent's peak; VmHWM belongs to the child's own address space.
#: A child that runs `coach ARGS` and prints its own peak memory (also used by benchmarks/hostile.py).
PEAK_SCRIPT = (
    "import atexit, sys\n"
    "def _hwm():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    "            sys.stderr.write('PEAK_KB=%d\\n' % int(line.split()[1]))\n"
    "atexit.register(_hwm)\n"
    "sys.argv = ['coach', *sys.argv[1:]]\n"
    "from coach.cli import cli\n"
    "cli()\n"
)


def _run_cli(args: list[str], home: Path) -> tuple[int, str, int]:
    """Run the CLI in a child process; returns exit code, stderr and the child's own peak RSS in MB."""
    proc = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COACH_HOME": str(home)},
    )
    assert "PEAK_KB=" in proc.stderr, proc.stderr[-2000:]
    peak_kb = int(proc.stderr.rsplit("PEAK_KB=", 1)[1].split()[0])
    return proc.returncode, proc.stderr, peak_kb // 1024


def test_cli_alias_bomb_exits_2_in_little_memory(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(alias_bomb())
    code, err, peak_mb = _run_cli(["pair", "add", str(bomb)], tmp_path / "home")
    assert code == 2, err
    assert "bomb.yaml" in err and "aliases" in err
    assert "Traceback" not in err
    assert peak_mb < 200


def test_cli_deep_nesting_exits_2(tmp_path: Path) -> None:
    f = tmp_path / "deep.yaml"
    f.write_text(deep(3000))
    from coach.cli import cli

    result = CliRunner().invoke(cli, ["plan", "--pair", str(f)])
    assert result.exit_code == 2, result.output
    assert "deep.yaml" in result.output and "nesting" in result.output


def test_cli_ten_megabyte_goal_exits_2(tmp_path: Path) -> None:
    f = tmp_path / "huge.yaml"
    f.write_text(
        "mentor: {name: A, role: B}\n"
        f"mentee: {{name: C, role: D, goals: ['{'x' * 10_000_000}']}}\n"
        "program: {sessions: 4, minutes: 60, cadence: weekly, start: 2027-01-04}\n"
    )
    from coach.cli import cli

    result = CliRunner().invoke(cli, ["pair", "add", str(f)])
    assert result.exit_code == 2, result.output
    assert "huge.yaml" in result.output and len(result.output) < 2_000


def test_home_and_database_are_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from coach.config import load_settings
    from coach.store import close_stores, open_store

    home = tmp_path / "private-home"
    monkeypatch.setenv("COACH_HOME", str(home))
    try:
        open_store(load_settings()).list_pairs()
    finally:
        close_stores()
    assert home.stat().st_mode & 0o777 == 0o700
    assert (home / "coach.db").stat().st_mode & 0o777 == 0o600


def test_megabyte_revision_text_is_refused_before_parsing(example_plan_and_retriever: tuple) -> None:
    from coach.revise import revise

    plan, retriever = example_plan_and_retriever
    for text in ("make session 2 shorter and cut " * 34_000, "1" * 100_000, "cut " * 250_000):
        with pytest.raises(InputError, match="at most 1,000 characters"):
            revise(plan, text, retriever)


def test_worst_case_instructions_under_the_cap_still_parse(example_plan_and_retriever: tuple) -> None:
    from coach.instructions import parse_edits

    plan, _ = example_plan_and_retriever
    for unit in ("cut ", "shorten ", "session 1 ", "1", "on on ", "move ", "and "):
        text = (unit * 1000)[:1000]
        parse_edits(text, plan)  # bounded patterns: returns (edits or none) instead of backtracking for minutes


@pytest.fixture(scope="module")
def example_plan_and_retriever(retriever: object, pair: object) -> tuple:
    from coach.planner import build_plan

    return build_plan(pair, retriever), retriever  # type: ignore[arg-type]


def test_only_the_apps_own_links_survive_escaping() -> None:
    import markdown_it

    from ui.safe import escape

    hostile = (
        "See [the site][ref] and [me][] or <https://evil.example/a> or https://evil.example/b or www.evil.example.\n\n"
        "[ref]: https://evil.example/c\n"
        "  [me]: javascript:alert(1)\n"
        "![x](https://evil.example/d.png) [y](https://evil.example/e)"
    )
    safe = escape(hostile)
    html = markdown_it.MarkdownIt("commonmark").render(safe + "\n\n[A card](?card=genai-prompting-basics)")
    assert html.count("<a ") == 1 and 'href="?card=genai-prompting-basics"' in html, html
    assert "<img" not in html
    # Bare addresses, which GFM renderers (the browser's) turn into links by themselves, are broken up too.
    assert "https://" not in safe and "www.evil" not in safe


def test_cli_revise_refuses_a_megabyte_from_stdin_before_opening_anything(tmp_path: Path) -> None:
    from coach.cli import cli

    plan = tmp_path / "plan.json"
    plan.write_text("{}")  # never read: the instruction is refused first
    result = CliRunner().invoke(cli, ["revise", "--plan", str(plan), "-"], input="push it back a week " * 60_000)
    assert result.exit_code == 2, result.output
    assert "at most 1,000 characters" in result.output
    assert "Traceback" not in result.output


def test_admin_password_failures_are_logged_and_locked_out(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from ui import access

    monkeypatch.setenv("COACH_ADMIN_PASSWORD", "correct horse battery staple")
    monkeypatch.setattr(access, "MAX_DELAY_SECONDS", 0.0)
    caplog.set_level("WARNING", logger="ui.access")
    for _ in range(5):
        assert access.check_password("guess", "10.0.0.7") is False
    assert caplog.text.count("failed admin sign-in from 10.0.0.7") == 5
    assert "guess" not in caplog.text  # the password tried is never logged
    with pytest.raises(access.LockedOut, match="locked for about 15 minutes"):
        access.check_password("correct horse battery staple", "10.0.0.7")  # locked: not even checked
    with pytest.raises(access.LockedOut):
        access.check_password("correct horse battery staple", "10.0.0.8")  # the password itself is locked too


def test_a_right_admin_password_clears_the_count(monkeypatch: pytest.MonkeyPatch) -> None:
    from ui import access

    monkeypatch.setenv("COACH_ADMIN_PASSWORD", "correct horse battery staple")
    monkeypatch.setattr(access, "MAX_DELAY_SECONDS", 0.0)
    for _ in range(4):
        assert access.check_password("guess", "10.0.0.9") is False
    assert access.check_password("correct horse battery staple", "10.0.0.10") is True
    assert access.check_password("guess", "10.0.0.11") is False  # the password's count started again


def test_uploaded_alias_bomb_is_refused_in_the_form(tmp_path: Path) -> None:
    from ui.plan_tab import load_upload

    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(alias_bomb())
    message, *fields = load_upload(str(bomb))
    assert "aliases" in message and "not a readable YAML pair file" in message
    assert len(message) < 400
    assert all(f == {"__type__": "update"} for f in fields)  # the form is left as it was
    # As many values as the form has fields, as when a good file is read (Gradio warned of one too many).
    example = Path(__file__).resolve().parents[2] / "examples" / "pair.yaml"
    assert len(fields) == len(load_upload(str(example))) - 1


def test_uploads_and_downloads_are_swept_from_the_cache() -> None:
    from ui.app import UPLOAD_CLEANUP, demo

    assert demo.delete_cache == UPLOAD_CLEANUP and UPLOAD_CLEANUP[1] <= 3600


def test_a_card_field_over_its_limit_is_bad_input(tmp_path: Path) -> None:
    import shutil

    from coach.config import DEFAULT_KB
    from coach.knowledge import load_card

    card = tmp_path / "big.yaml"
    shutil.copy(DEFAULT_KB / "generative-ai" / "genai-prompting-basics.yaml", card)
    card.write_text(card.read_text().replace("summary:", f"summary: {'x' * 5000}\nold_summary:", 1))
    with pytest.raises(InputError) as info:
        load_card(card)
    assert "summary" in str(info.value) and "4000" in str(info.value).replace(",", "")
    assert len(str(info.value)) < 1_000  # the 5,000 characters are quoted as a short excerpt


def test_a_roster_over_the_row_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    from coach.limits import CSV_ROWS
    from coach.roster import parse_roster

    roster = tmp_path / "huge.csv"
    roster.write_text("mentor_name\n" + "x\n" * (CSV_ROWS + 1))
    with pytest.raises(InputError, match=f"at most {CSV_ROWS:,} rows"):
        parse_roster(roster)
