"""Program-wide writer locks: one `coach cohort plan` at a time, across processes and machines.

SQLite holds a file lock next to the database file; PostgreSQL an advisory lock on a connection of
its own. Both are released by the operating system or the server when the holder dies, so a crashed
run is resumed by the next one, and never while its holder is still working.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from coach.errors import CoachError
from coach.store.database import Database


class Busy(CoachError):
    """Another process holds the lock."""


def _key(name: str) -> int:
    """A stable 63-bit advisory-lock key for a lock name (same in every process)."""
    return zlib.crc32(f"mentor-coach:{name}".encode()) & 0x7FFFFFFF


class LockRepository(Database):
    """Named locks that hold across processes on the same database."""

    @contextmanager
    def writer_lock(self, name: str, wait: float = 0.0, what: str = "another run") -> Iterator[None]:
        """Hold the lock `name` for the block; after `wait` seconds raise Busy naming `what`."""
        if self.is_sqlite:
            with self._file_lock(name, wait, what):
                yield
        else:
            with self._advisory_lock(name, wait, what):
                yield

    @contextmanager
    def _file_lock(self, name: str, wait: float, what: str) -> Iterator[None]:
        from filelock import FileLock, Timeout

        db = self.url.removeprefix("sqlite:///")
        base = Path(db) if db and db != ":memory:" else self.home / "memory.db"
        lock = FileLock(str(base) + f".{name}.lock")
        try:
            lock.acquire(timeout=wait)
        except Timeout:
            raise Busy(f"{what} is in progress; try again when it has finished") from None
        try:
            yield
        finally:
            lock.release()

    @contextmanager
    def _advisory_lock(self, name: str, wait: float, what: str) -> Iterator[None]:
        from sqlalchemy import text

        key = _key(name)
        deadline = time.monotonic() + wait
        with self.engine.connect() as conn:
            while not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
                conn.rollback()
                if time.monotonic() >= deadline:
                    raise Busy(f"{what} is in progress; try again when it has finished")
                time.sleep(0.2)
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
