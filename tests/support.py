"""Helpers shared by test modules (import from here, never from `conftest`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_PAIR = ROOT / "examples" / "pair.yaml"


def require(what: str, available: bool) -> None:
    """Skip when a tool is missing, but fail under `make test` (COACH_REQUIRE_ALL=1)."""
    if available:
        return
    if os.environ.get("COACH_REQUIRE_ALL") == "1":
        pytest.fail(f"{what} is required under make test but is not available")
    pytest.skip(f"{what} is not available")
