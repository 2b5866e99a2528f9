"""Helpers shared by test modules (import from here, never from `conftest`)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_PAIR = ROOT / "examples" / "pair.yaml"
EVAL_CASES = ROOT / "evals" / "cases"


def require(what: str, available: bool) -> None:
    """Skip when a tool is missing, but fail under `make test` (COACH_REQUIRE_ALL=1)."""
    if available:
        return
    if os.environ.get("COACH_REQUIRE_ALL") == "1":
        pytest.fail(f"{what} is required under make test but is not available")
    pytest.skip(f"{what} is not available")


def copy_cases(where: Path, ids: list[str]) -> Path:
    """A folder under `where` holding only the named shipped eval cases (a small, quick suite)."""
    folder = where / "cases"
    folder.mkdir(exist_ok=True)
    for cid in ids:
        src = next(EVAL_CASES.rglob(f"{cid}.yaml"))
        shutil.copy(src, folder / src.name)
    return folder
