"""Two real processes writing hundreds of rows at once lose nothing and never report "database is locked".

Runs on SQLite here; tests/integration/test_postgres.py reruns it on PostgreSQL by overriding `db_url`.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from coach.config import load_settings

pytestmark = pytest.mark.integration

ROUNDS = 120  # each round writes a pair, a session record with two ratings and a plan version

WORKER = r"""
import datetime as dt, sys, time
from pathlib import Path
from coach.cli import cli
from coach.config import load_settings
from coach.models import Mentee, Mentor, Pair, Program, Plan, PersonRef
from coach.store import open_store

name, shared, rounds, gate, via = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]), sys.argv[5]
store = open_store(load_settings())          # on a fresh database every worker migrates at once
(gate.parent / f"ready-{name}").touch()
while not gate.exists():
    time.sleep(0.005)
for i in range(rounds):
    pair = Pair(
        mentor=Mentor(name=f"{name} mentor {i}", role="Analyst"),
        mentee=Mentee(name=f"{name} mentee {i}", role="Director", goals=["learn AI"]),
        program=Program(sessions=12, minutes=45, cadence="weekly", start=dt.date(2026, 1, 5)),
    )
    pid = store.add_pair(pair, cohort=name)
    if shared == "-":
        continue
    n, rm, re = 1 + i % 12, 1 + i % 5, 5 - i % 5
    if via == "cli":  # the command-line path, as a user typing `coach session log` would
        cli.main(["session", "log", shared, str(n), "--status", "held", "--date", "2026-01-05",
                  "--rating-mentor", str(rm), "--rating-mentee", str(re), "--notes", f"{name} {i}"],
                 standalone_mode=False)
    else:  # the library path, as the app uses it
        store.log_session(shared, n, "held", dt.date(2026, 1, 5), f"{name} {i}", {"mentor": (rm, ""), "mentee": (re, "")})
    plan = Plan(mentor=PersonRef(name="m", role="r"), mentee=PersonRef(name="e", role="r"),
                ground_rules=[], success_measures=[], sessions=[], notes=[f"{name} {i}"])
    store.save_plan(shared, plan, f"{name} {i}")
    store.save_plan(pid, plan, "own")
print("done", name)
"""


@pytest.fixture
def db_url() -> str | None:
    """None: SQLite under $COACH_HOME."""
    return None


@pytest.fixture
def env(db_url: str | None, isolated_env: Path) -> Iterator[dict[str, str]]:
    from coach.store import close_stores

    env = {**os.environ, "COACH_HOME": str(isolated_env)}
    if db_url:
        env["COACH_DATABASE_URL"] = db_url
    yield env
    close_stores()


def _store(env: dict[str, str], monkeypatch: pytest.MonkeyPatch):
    from coach.store import open_store

    if "COACH_DATABASE_URL" in env:
        monkeypatch.setenv("COACH_DATABASE_URL", env["COACH_DATABASE_URL"])
    return open_store(load_settings())


def _start(
    workers: list[tuple[str, str]], shared: str, rounds: int, tmp_path: Path, env: dict[str, str]
) -> list[subprocess.Popen]:
    gate = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, name, shared, str(rounds), str(gate), via],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, via in workers
    ]
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready-{n}").exists() for n, _ in workers):
        if any(p.poll() is not None for p in procs):
            pytest.fail(f"a worker died before starting: {[p.communicate() for p in procs]}")
        assert time.monotonic() < deadline, "workers did not start"
        time.sleep(0.01)
    gate.touch()  # every worker starts writing at the same instant
    return procs


def _finish(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        assert "locked" not in (out + err).lower(), err
        assert "error" not in err.lower(), err


def _shared_pair():
    import datetime as dt

    from coach.models import Mentee, Mentor, Pair, Program

    return Pair(
        mentor=Mentor(name="Shared Mentor", role="Analyst"),
        mentee=Mentee(name="Shared Mentee", role="COO", goals=["learn AI"]),
        program=Program(sessions=12, minutes=45, cadence="weekly", start=dt.date(2026, 1, 5)),
    )


def test_cli_and_app_processes_lose_nothing(env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = _store(env, monkeypatch)
    shared = store.add_pair(_shared_pair())
    _finish(_start([("app", "api"), ("cli", "cli")], shared, ROUNDS, tmp_path, env))

    counts = store.count_rows()
    assert counts["pairs"] == 1 + 2 * ROUNDS
    assert counts["session_records"] == 2 * ROUNDS
    assert counts["feedback"] == 4 * ROUNDS
    assert counts["plans"] == 4 * ROUNDS
    assert {p.cohort for p in store.list_pairs()} == {None, "app", "cli"}
    notes = sorted(r.notes for r in store.sessions(shared))
    assert notes == sorted([f"app {i}" for i in range(ROUNDS)] + [f"cli {i}" for i in range(ROUNDS)])
    versions = store.plan_versions(shared)
    # Version numbers are unique and gap-free although both processes saved plans of the same pair.
    assert [v.version for v in versions] == list(range(1, 2 * ROUNDS + 1))
    assert sorted(v.reason for v in versions) == sorted(
        [f"app {i}" for i in range(ROUNDS)] + [f"cli {i}" for i in range(ROUNDS)]
    )
    # The writes really interleaved (otherwise this test would prove nothing).
    owners = [v.reason.split()[0] for v in versions]
    switches = sum(1 for a, b in itertools.pairwise(owners) if a != b)
    assert switches >= 10, owners


def test_fresh_database_opened_by_several_processes(env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    names = [(f"w{i}", "api") for i in range(4)]
    _finish(_start(names, "-", 25, tmp_path, env))
    store = _store(env, monkeypatch)
    from coach.store import HEAD_REVISION

    assert store.current_revision() == HEAD_REVISION
    assert store.count_rows()["pairs"] == 100


HOLDER = r"""
import sys, time
from pathlib import Path
from coach.config import load_settings
from coach.store import open_store

store = open_store(load_settings())
with store.writer_lock("cohort-plan"):
    Path(sys.argv[1]).touch()
    while not Path(sys.argv[2]).exists():
        time.sleep(0.01)
"""


def test_writer_lock_is_exclusive_and_dies_with_its_holder(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import signal

    from coach.store import Busy

    store = _store(env, monkeypatch)
    held, release = tmp_path / "held", tmp_path / "release"
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(held), str(release)], env=env)
    try:
        deadline = time.monotonic() + 120
        while not held.exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        with pytest.raises(Busy, match="another run is in progress"), store.writer_lock("cohort-plan", wait=0.3):
            pass
        with store.writer_lock("another-lock"):  # other names are independent
            pass
        os.kill(proc.pid, signal.SIGKILL)  # a crashed holder: the OS or the server frees its lock
        proc.wait(timeout=30)
        with store.writer_lock("cohort-plan", wait=30):
            pass
    finally:
        if proc.poll() is None:
            proc.kill()
