"""kill -9 in the middle of `coach cohort plan` loses no finished plan, and the rerun plans only the rest."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coach.config import load_settings

pytestmark = pytest.mark.integration

PAIRS = 80


def _roster(path: Path) -> Path:
    cadences = ["weekly", "biweekly", "monthly"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "mentor_name",
                "mentor_role",
                "mentee_name",
                "mentee_role",
                "goals",
                "sessions",
                "minutes",
                "cadence",
                "start",
            ]
        )
        for i in range(PAIRS):
            goals = ["use generative AI to draft reports", "understand Gen Z customers", "spot phishing"][: 1 + i % 3]
            w.writerow(
                [
                    f"Mentor {i}",
                    "Analyst",
                    f"Leader {i}",
                    "Director",
                    ";".join(goals),
                    2 + i % 10,
                    30 + 15 * (i % 4),
                    cadences[i % 3],
                    "2026-02-02",
                ]
            )
    return path


def _coach(*args: str) -> list[str]:
    exe = Path(sys.executable).parent / "coach"
    return [str(exe), *args] if exe.exists() else [sys.executable, "-m", "coach.cli", *args]


def test_kill_during_cohort_plan_keeps_finished_plans(indexed_home: Path, tmp_path: Path, monkeypatch) -> None:
    from coach.checks import check_plan
    from coach.knowledge import load_knowledge
    from coach.store import close_stores, open_store

    monkeypatch.setenv("COACH_DATABASE_URL", f"sqlite:///{tmp_path / 'coach.db'}")
    env = {**os.environ}
    done = subprocess.run(
        _coach("cohort", "import", str(_roster(tmp_path / "wave.csv"))), env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    store = open_store(load_settings())

    def plans() -> int:
        return int(store.count_rows()["plans"])

    proc = subprocess.Popen(
        _coach("cohort", "plan", "--concurrency", "2"), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 300
    while plans() < 10:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no plans were written"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    kept = {p.id: p.plan_version for p in store.list_pairs()}
    finished = {pid for pid, v in kept.items() if v}
    assert 10 <= len(finished) < PAIRS, "the kill should land half-way"
    before = {pid: store.get_plan(pid) for pid in finished}
    kb = load_knowledge(load_settings().kb_dirs)
    for pid, stored in before.items():
        assert stored.version == 1
        assert check_plan(stored.plan, store.get_pair(pid).pair, kb) == []

    rerun = subprocess.run(_coach("cohort", "plan", "--concurrency", "2"), env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert f"planned {PAIRS - len(finished)} pairs (resumed run" in rerun.stdout
    assert f"{len(finished)} already done" in rerun.stdout
    after = store.list_pairs()
    assert len(after) == PAIRS and all(p.plan_version == 1 for p in after)  # each pair planned exactly once
    assert plans() == PAIRS
    for pid, stored in before.items():
        assert store.get_plan(pid) == stored  # the plans finished before the kill are untouched
    close_stores()


@pytest.mark.parametrize("wait", ["0", "600"])
def test_two_cohort_plans_at_once_leave_one_version_per_pair(
    indexed_home: Path, tmp_path: Path, monkeypatch, wait: str
) -> None:
    from coach.store import close_stores, open_store

    monkeypatch.setenv("COACH_DATABASE_URL", f"sqlite:///{tmp_path / 'coach.db'}")
    env = {**os.environ}
    done = subprocess.run(
        _coach("cohort", "import", str(_roster(tmp_path / "wave.csv"))), env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    procs = [
        subprocess.Popen(
            _coach("cohort", "plan", "--wait", wait), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outs = [(p.wait(timeout=600), *p.communicate()) for p in procs]
    store = open_store(load_settings())
    pairs = store.list_pairs()
    assert len(pairs) == PAIRS and all(p.plan_version == 1 for p in pairs), outs  # never planned twice
    assert store.count_rows()["plans"] == PAIRS
    planned = sorted(int(out.split("planned ")[1].split()[0]) for code, out, _ in outs if code == 0)
    assert sum(planned) == PAIRS, outs
    for code, out, err in outs:
        if code != 0:  # without --wait the second run says why it did nothing
            assert wait == "0" and "another `coach cohort plan` run is in progress" in err, (code, out, err)
            assert "Traceback" not in err
    close_stores()
