"""One program database: its URL, engine, migrations, and transactions retried while it is busy.

SQLite at `$COACH_HOME/coach.db` by default (WAL journal, a busy timeout, write transactions that
take the write lock up front, and a retry), or PostgreSQL (psycopg 3) when `COACH_DATABASE_URL`
is set. The Alembic migrations in `coach/migrations` run when the store is opened.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session as DbSession

from coach.errors import CoachError, InputError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from coach.config import Settings

T = TypeVar("T")

#: The newest migration; a database already at this revision skips Alembic entirely (fast open).
HEAD_REVISION = "0006"
#: How long SQLite waits for another writer before giving up on one attempt.
BUSY_TIMEOUT_MS = 15_000
#: Attempts for a write transaction that still meets a locked database or a serialization failure.
WRITE_ATTEMPTS = 8
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def database_url(settings: Settings) -> str:
    """The SQLAlchemy URL: COACH_DATABASE_URL (PostgreSQL via psycopg 3, or SQLite) or the default file."""
    raw = settings.database_url
    if not raw:
        return f"sqlite:///{settings.db_path}"
    url = raw.strip()
    for prefix in ("postgresql+psycopg2://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith(("postgresql+psycopg://", "sqlite://")):
        return url
    raise InputError(
        "$COACH_DATABASE_URL",
        "COACH_DATABASE_URL",
        f"a postgresql://USER@HOST:PORT/DB or sqlite:///PATH URL, got {raw!r}",
    )


def _sqlite_engine(url: str) -> Engine:
    from sqlalchemy.pool import NullPool

    # NullPool: a connection per transaction, so no pooled connection keeps an old WAL snapshot
    # or a file handle after a fork; opening a SQLite connection costs microseconds.
    engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (below), so pysqlite must not open transactions on its own.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A writer takes the lock at BEGIN, where busy_timeout applies. A deferred transaction that
        # reads first and writes later fails at once with "database is locked" when another process
        # wrote in between: that is the error users must never see.
        immediate = conn.get_execution_options().get("coach_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _retryable(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    if "database is locked" in text or "database is busy" in text or "database table is locked" in text:
        return True
    code = getattr(exc.orig, "sqlstate", None)
    # PostgreSQL: serialization failure, deadlock, lock not available.
    return code in {"40001", "40P01", "55P03"}


def _private_database_file(path: Path, home: Path) -> None:
    """Create the SQLite file 0600 (its journal files inherit that) in a 0700 $COACH_HOME: it holds people's data."""
    import os

    from coach.config import private_dir, private_file

    if path.parent.resolve() == home.resolve():
        private_dir(path.parent)
    else:
        # A folder the admin chose (it may be shared, like /tmp): only the file is made private.
        path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    private_file(path)


class Database:
    """Engine, migrations and retried transactions over one database; the repositories build on it."""

    def __init__(self, url: str, home: Path) -> None:
        self.url = url
        self.home = home
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            path = url.removeprefix("sqlite:///")
            if path and path != ":memory:":
                _private_database_file(Path(path), home)
            self.engine = _sqlite_engine(url)
        else:
            self.engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)

    # ----------------------------------------------------------------- migrations and transactions

    def current_revision(self) -> str | None:
        """The Alembic revision of the database, or None for an empty one."""
        from sqlalchemy import inspect, text

        with self.engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()

    def migrate(self) -> None:
        """Bring the schema to the newest revision; safe when several processes open at once."""
        try:
            if self.current_revision() == HEAD_REVISION:
                return
        except OperationalError as exc:
            if not _retryable(exc):
                cause = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
                raise CoachError(f"cannot open the database {self.safe_url()}: {cause}") from None
        if self.is_sqlite:
            from filelock import FileLock

            self.home.mkdir(parents=True, exist_ok=True)
            lock_path = Path(self.url.removeprefix("sqlite:///") + ".migrate.lock")
            with FileLock(str(lock_path), timeout=120):
                self._upgrade()
        else:
            self._upgrade()

    def _upgrade(self) -> None:
        from alembic import command
        from alembic.config import Config
        from sqlalchemy import text

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        with self.engine.connect().execution_options(coach_write=True) as conn, conn.begin():
            if not self.is_sqlite:
                # One migrator at a time across processes; released at commit.
                conn.execute(text("SELECT pg_advisory_xact_lock(74657301)"))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def safe_url(self) -> str:
        """The URL without its password, for messages."""
        from sqlalchemy.engine import make_url

        return make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def _session(self, write: bool) -> Iterator[DbSession]:
        with DbSession(self.engine, expire_on_commit=False, autoflush=True) as s:
            s.connection(execution_options={"coach_write": write})
            yield s
            if write:
                s.commit()
            else:
                s.rollback()

    def write(self, fn: Callable[[DbSession], T]) -> T:
        """Run `fn` in one write transaction, retried while the database is busy; committed on return."""
        return self._retried(fn, write=True)

    def read(self, fn: Callable[[DbSession], T]) -> T:
        """Run `fn` in one read-only transaction (a consistent snapshot)."""
        return self._retried(fn, write=False)

    def _retried(self, fn: Callable[[DbSession], T], write: bool) -> T:
        delay = 0.05
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self._session(write) as s:
                    return fn(s)
            except DBAPIError as exc:
                if not _retryable(exc):
                    raise
                if attempt == WRITE_ATTEMPTS - 1:
                    if not write:
                        raise
                    raise CoachError(
                        "the database stayed busy with another writer; nothing was written, try again"
                    ) from None
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")
