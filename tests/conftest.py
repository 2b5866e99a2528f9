"""Test isolation: a private $COACH_HOME, no model configured, no traffic beyond loopback."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

# Helpers tests import live in support.py: tests/ui has a conftest.py of its own, and a module named
# `conftest` imported from a test may be either file.
from support import EXAMPLE_PAIR, ROOT, require  # noqa: F401 - re-exported for fixtures below

_ENV_TO_CLEAR = [
    "COACH_MODEL",
    "COACH_CHROMA_URL",
    "COACH_DATABASE_URL",
    "COACH_KB_DIRS",
    "COACH_JUDGE_MODEL",
    "COACH_ADMIN_PASSWORD",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "AZURE_OPENAI_API_KEY",
]

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: object) -> object:
    """Refuse any connection that leaves the machine: tests talk only to loopback."""
    if isinstance(address, tuple) and address and isinstance(address[0], str):
        host = address[0]
        try:
            ok = ipaddress.ip_address(host).is_loopback
        except ValueError:
            ok = host == "localhost"
        if not ok:
            raise ConnectionRefusedError(f"tests may only connect to loopback, not {host}")
    return _real_connect(self, address)  # type: ignore[arg-type]


socket.socket.connect = _loopback_only  # type: ignore[assignment]


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One ONNX export of the embedding model for the whole run (each test still has its own home)."""
    cache = tmp_path_factory.mktemp("models")
    old = os.environ.get("COACH_MODEL_CACHE")
    os.environ["COACH_MODEL_CACHE"] = str(cache)
    yield cache
    if old is None:
        os.environ.pop("COACH_MODEL_CACHE", None)
    else:
        os.environ["COACH_MODEL_CACHE"] = old


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own $COACH_HOME and no model configuration."""
    for name in _ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "coach-home"
    monkeypatch.setenv("COACH_HOME", str(home))
    yield home


@pytest.fixture(scope="session")
def shared_index_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A $COACH_HOME with the shipped cards indexed once for the whole session."""
    from coach.config import load_settings
    from coach.index import build_index

    home = tmp_path_factory.mktemp("indexed-home")
    old = os.environ.get("COACH_HOME")
    os.environ["COACH_HOME"] = str(home)
    try:
        build_index(load_settings())
    finally:
        if old is None:
            os.environ.pop("COACH_HOME", None)
        else:
            os.environ["COACH_HOME"] = old
    return home


@pytest.fixture
def indexed_home(shared_index_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point $COACH_HOME at the shared, already-built index (read-only use)."""
    monkeypatch.setenv("COACH_HOME", str(shared_index_home))
    return shared_index_home


@pytest.fixture
def writable_index_home(shared_index_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the shared index, for tests that write to it."""
    import shutil

    home = tmp_path / "indexed-copy"
    shutil.copytree(shared_index_home, home)
    monkeypatch.setenv("COACH_HOME", str(home))
    return home


@pytest.fixture(scope="module")
def retriever(shared_index_home: Path):
    """One retriever over the shared index per test module (building one per test is slow)."""
    from coach.config import load_settings
    from coach.retrieval import get_retriever

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COACH_HOME", str(shared_index_home))
        return get_retriever(load_settings())


@pytest.fixture(scope="module")
def pair():
    """The example pair of examples/pair.yaml."""
    from coach.pairs import load_pair

    return load_pair(EXAMPLE_PAIR)
