"""The store suite on a real PostgreSQL server: a throwaway cluster on loopback, Debian's binaries.

The tests of tests/unit/test_store.py and tests/integration/test_concurrent_writes.py are loaded here
and run again with `db_url` pointing at a fresh database of that cluster, so both backends pass the
same suite. Without PostgreSQL installed the module is skipped (and fails under `make test`).
"""

from __future__ import annotations

import glob
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.integration

HERE = Path(__file__).resolve().parent
INITDB = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_user() -> str | None:
    """PostgreSQL refuses to run as root: use the `postgres` account (or create `coachpg`)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "coachpg"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "coachpg"], check=True)
    return "coachpg"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A PostgreSQL cluster for this test session on 127.0.0.1 (trust auth, no fsync); yields its base URL."""
    from support import require

    if not INITDB:
        require("postgresql (apt-get install postgresql)", False)
    bindir = Path(INITDB[-1]).parent
    user = _server_user()
    prefix = ["runuser", "-u", user, "--"] if user else []
    # Not under pytest's tmp dir: that is private to root, and the server runs as another user.
    root = Path(tempfile.mkdtemp(prefix="coach-pg-"))
    data = root / "data"
    if user:
        shutil.chown(root, user)
    port = _free_port()
    try:
        subprocess.run(
            [
                *prefix,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "coach",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories='' "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            [
                *prefix,
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(root / "log"),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ],
            check=True,
            capture_output=True,
        )
    except subprocess.CalledProcessError as exc:
        log = (root / "log").read_text() if (root / "log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL: {exc.stderr!r} {log}") from exc
    try:
        yield f"postgresql://coach@127.0.0.1:{port}"
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def db_url(pg_server: str) -> Iterator[str]:
    """A fresh, empty database on the session's cluster for one test."""
    import psycopg

    name = f"coach_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{pg_server}/{name}"
    from coach.store import close_stores

    close_stores()
    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The same tests, collected again in this module so that they resolve `db_url` to the fixture above.
for _module in (
    _load(HERE.parent / "unit" / "test_store.py", "store_suite_on_postgres"),
    _load(HERE / "test_concurrent_writes.py", "concurrency_suite_on_postgres"),
):
    for _name, _obj in vars(_module).items():
        if _name == "db_url" or _name.startswith("__"):
            continue
        if (
            _name.startswith("test_")
            or hasattr(_obj, "_fixture_function_marker")
            or hasattr(_obj, "_pytestfixturefunction")
        ):
            globals()[_name] = _obj


def test_the_store_really_is_postgres(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import text

    from coach.config import load_settings
    from coach.store import close_stores, open_store

    monkeypatch.setenv("COACH_DATABASE_URL", db_url)
    store = open_store(load_settings())
    try:
        assert store.engine.dialect.name == "postgresql" and store.engine.dialect.driver == "psycopg"
        with store.engine.connect() as conn:
            assert "PostgreSQL" in conn.execute(text("SELECT version()")).scalar()
        assert not (load_settings().home / "coach.db").exists()
    finally:
        close_stores()


def test_bad_database_url_is_bad_input(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from coach.cli import cli

    monkeypatch.setenv("COACH_DATABASE_URL", "mysql://root@localhost/coach")
    res = CliRunner().invoke(cli, ["pair", "list"])
    assert res.exit_code == 2 and "COACH_DATABASE_URL" in res.stderr
