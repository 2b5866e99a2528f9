"""`coach user` and `coach audit` (SPEC.md section 10): accounts, tokens, links, bad input exits 2."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from support import ROOT

from coach.cli import cli

EXAMPLE = ROOT / "examples" / "pair.yaml"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def add_pair() -> str:
    code, out, err = invoke("pair", "add", str(EXAMPLE))
    assert code == 0, err
    code, out, err = invoke("pair", "list", "--format", "json")
    return str(json.loads(out)[-1]["id"])


def test_add_token_list_remove(isolated_env: Path) -> None:
    pid = add_pair()
    assert invoke("user", "add", "boss@example.org", "--name", "Boss", "--role", "admin")[0] == 0
    code, out, err = invoke("user", "add", "priya@example.org", "--name", "Priya", "--pair", pid, "--side", "mentor")
    assert code == 0, err
    assert f"mentor of {pid}" in out

    code, out, err = invoke("user", "token", "priya@example.org")
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 1 and len(lines[0]) > 30
    from coach.config import load_settings
    from coach.store import open_store

    assert open_store(load_settings()).account_for_token(lines[0]).email == "priya@example.org"

    code, out, _ = invoke("user", "list", "--format", "json")
    rows = {r["email"]: r for r in json.loads(out)}
    assert rows["priya@example.org"]["pairs"] == {pid: "mentor"}
    assert rows["boss@example.org"]["role"] == "admin"
    assert lines[0] not in out
    code, out, _ = invoke("user", "list")
    assert code == 0 and "priya@example.org" in out

    code, out, err = invoke("user", "remove", "priya@example.org", "--yes")
    assert code == 0, err
    code, out, _ = invoke("user", "list", "--format", "json")
    assert [r["email"] for r in json.loads(out)] == ["boss@example.org"]
    code, out, _ = invoke("audit", "--format", "json")
    assert [(e["actor"], e["action"], e["target"]) for e in json.loads(out)] == [
        ("cli", "delete", "account priya@example.org")
    ]
    code, out, _ = invoke("audit")
    assert code == 0 and "account priya@example.org" in out


def test_bad_input_exits_2_naming_the_field(isolated_env: Path) -> None:
    pid = add_pair()
    cases = [
        (["user", "add", "nope", "--name", "X", "--role", "admin"], "email"),
        (["user", "add", "a@example.org", "--name", "X", "--role", "boss"], "--role"),
        (["user", "add", "a@example.org", "--name", "X", "--pair", pid, "--side", "coach"], "--side"),
        (["user", "add", "a@example.org", "--name", "X"], "--pair"),
        (["user", "add", "a@example.org", "--name", "X", "--pair", "zzzzzzzz", "--side", "mentor"], "zzzzzzzz"),
        (["user", "add", "a@example.org", "--name", "", "--role", "admin"], "--name"),
        (["user", "token", "nobody@example.org"], "email"),
        (["user", "remove", "nobody@example.org", "--yes"], "email"),
        (["user", "invite", "nobody@example.org"], "email"),
    ]
    for args, field in cases:
        code, out, err = invoke(*args)
        assert code == 2, (args, out, err)
        assert field in err, (args, err)
        assert "Traceback" not in err
    code, out, _ = invoke("user", "list", "--format", "json")
    assert json.loads(out) == []  # nothing was written


def test_invite_and_reset_print_one_time_links(isolated_env: Path, monkeypatch) -> None:
    from coach.config import load_settings
    from coach.store import open_store

    invoke("user", "add", "boss@example.org", "--name", "Boss", "--role", "admin")
    monkeypatch.setenv("COACH_PUBLIC_URL", "https://coach.example.org/")
    code, out, err = invoke("user", "invite", "boss@example.org")
    assert code == 0, err
    assert out.startswith("https://coach.example.org/?invite=") and len(out.splitlines()) == 1
    store = open_store(load_settings())
    store.accept_link(out.strip().split("invite=")[1], "first-password")
    assert store.sign_in("boss@example.org", "first-password") is not None

    code, out, err = invoke("user", "reset-password", "boss@example.org")
    assert code == 0, err
    assert store.sign_in("boss@example.org", "first-password") is None  # the old one stops at once
    store.accept_link(out.strip().split("invite=")[1], "second-password")
    assert store.sign_in("boss@example.org", "second-password") is not None

    monkeypatch.setenv("COACH_PUBLIC_URL", "ftp://x")
    code, _, err = invoke("user", "invite", "boss@example.org")
    assert code == 2 and "COACH_PUBLIC_URL" in err
