"""The program database: pairs, plan versions, session records, feedback, cohort runs and eval runs.

SQLite at `$COACH_HOME/coach.db` by default (WAL journal, a busy timeout, write transactions that
take the write lock up front, and a retry), or PostgreSQL (psycopg 3) when `COACH_DATABASE_URL`
is set. The Alembic migrations in `coach/migrations` run when the store is opened.

This module imports SQLAlchemy at the top, so nothing imports it at import time: the CLI and the
other modules import it inside the functions that need the database.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    func,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.orm import Session as DbSession

from coach.errors import CoachError, InputError
from coach.metrics import PairFacts
from coach.models import Pair, Plan

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from coach.config import Settings

T = TypeVar("T")

#: The newest migration; a database already at this revision skips Alembic entirely (fast open).
HEAD_REVISION = "0002"
#: How long SQLite waits for another writer before giving up on one attempt.
BUSY_TIMEOUT_MS = 15_000
#: Attempts for a write transaction that still meets a locked database or a serialization failure.
WRITE_ATTEMPTS = 8
STATUSES = ("held", "cancelled", "moved")
SIDES = ("mentor", "mentee")
ID_PATTERN = re.compile(r"^[0-9a-f]{4,32}$")
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def utcnow() -> dt.datetime:
    """Naive UTC now: both backends store it the same way."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def new_pair_id() -> str:
    """A random 12-hex-digit id (48 bits: no collision in practice, even across processes)."""
    return secrets.token_hex(6)


# --------------------------------------------------------------------------- tables


class Base(DeclarativeBase):
    """Declarative base of the program tables."""


class PairRow(Base):
    """One mentoring pair; `pair_json` is the validated pair file (SPEC.md section 2)."""

    __tablename__ = "pairs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    cohort: Mapped[str | None] = mapped_column(String(200), index=True)
    mentor_name: Mapped[str] = mapped_column(String(120))
    mentor_role: Mapped[str] = mapped_column(String(120))
    mentee_name: Mapped[str] = mapped_column(String(120))
    mentee_role: Mapped[str] = mapped_column(String(120))
    sessions_planned: Mapped[int] = mapped_column(Integer)
    minutes: Mapped[int] = mapped_column(Integer)
    cadence: Mapped[str] = mapped_column(String(16))
    start: Mapped[dt.date] = mapped_column(Date)
    goals_total: Mapped[int] = mapped_column(Integer)
    pair_json: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class PlanRow(Base):
    """One version of a pair's plan; every generated or revised plan is a new row."""

    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("pair_id", "version", name="uq_plans_pair_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pair_id: Mapped[str] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    engine: Mapped[str] = mapped_column(String(60))
    model: Mapped[str] = mapped_column(String(200))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("cohort_runs.id", ondelete="SET NULL"), index=True)
    sessions: Mapped[int] = mapped_column(Integer)
    #: {"session number": [goal indexes]}: what the report needs, without parsing the whole plan.
    session_goals: Mapped[str] = mapped_column(Text)
    plan_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class SessionRecord(Base):
    """What happened to a session: held, cancelled or moved (the latest record per number wins)."""

    __tablename__ = "session_records"
    __table_args__ = (
        CheckConstraint("status IN ('held', 'cancelled', 'moved')", name="ck_session_records_status"),
        CheckConstraint("number >= 1", name="ck_session_records_number"),
        Index("ix_session_records_pair_number", "pair_id", "number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pair_id: Mapped[str] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    date: Mapped[dt.date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class FeedbackRow(Base):
    """One side's 1-5 rating of a session, with a comment."""

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="ck_feedback_rating"),
        CheckConstraint("side IN ('mentor', 'mentee')", name="ck_feedback_side"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pair_id: Mapped[str] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"), index=True)
    session_record_id: Mapped[int] = mapped_column(ForeignKey("session_records.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    side: Mapped[str] = mapped_column(String(8))
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class CohortRun(Base):
    """One `coach cohort plan` run; a run left unfinished is resumed by the next one."""

    __tablename__ = "cohort_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cohort: Mapped[str | None] = mapped_column(String(200))
    #: "missing": pairs without any plan; "all": a new version for every pair.
    mode: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class EvalRunRow(Base):
    """A stored eval result (for a pair, or for the whole engine when pair_id is empty)."""

    __tablename__ = "eval_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pair_id: Mapped[str | None] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"), index=True)
    engine: Mapped[str] = mapped_column(String(60))
    model: Mapped[str] = mapped_column(String(200))
    passed: Mapped[bool]
    result_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    #: "suite" for a `coach eval` run over the cases; None for older per-pair results.
    kind: Mapped[str | None] = mapped_column(String(16), index=True)
    #: The git commit the suite ran on (`+dirty` when tracked files had changed).
    git_commit: Mapped[str | None] = mapped_column(String(60))


class EvalScoreRow(Base):
    """One evaluator's score on one case of a suite run."""

    __tablename__ = "eval_scores"
    __table_args__ = (Index("ix_eval_scores_run_case", "run_id", "case_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("eval_runs.id", ondelete="CASCADE"))
    case_id: Mapped[str] = mapped_column(String(120))
    evaluator: Mapped[str] = mapped_column(String(40))
    score: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool]
    reason: Mapped[str] = mapped_column(Text)


#: Every table that holds data of one pair, with the column naming it (tests check delete against this).
PAIR_TABLES: dict[str, str] = {
    "pairs": "id",
    "plans": "pair_id",
    "session_records": "pair_id",
    "feedback": "pair_id",
    "eval_runs": "pair_id",
}


# --------------------------------------------------------------------------- plain results


@dataclass(frozen=True)
class PairInfo:
    """A stored pair with its latest plan version (0 when it has none)."""

    id: str
    cohort: str | None
    mentor: str
    mentee: str
    sessions_planned: int
    cadence: str
    start: dt.date
    created_at: dt.datetime
    plan_version: int
    pair: Pair

    def list_row(self) -> dict[str, Any]:
        """SPEC.md section 7 `pair list` row plus a few fields."""
        return {
            "id": self.id,
            "mentor": self.mentor,
            "mentee": self.mentee,
            "sessions_planned": self.sessions_planned,
            "cohort": self.cohort,
            "cadence": self.cadence,
            "start": self.start.isoformat(),
            "plan_version": self.plan_version,
        }


@dataclass(frozen=True)
class PlanVersion:
    """One stored version of a plan."""

    pair_id: str
    version: int
    reason: str
    engine: str
    model: str
    created_at: dt.datetime
    run_id: int | None
    plan: Plan


@dataclass(frozen=True)
class LoggedSession:
    """A session record with the ratings given with it."""

    id: int
    number: int
    status: str
    date: dt.date
    notes: str
    created_at: dt.datetime
    ratings: dict[str, tuple[int, str]] = field(default_factory=dict)


# --------------------------------------------------------------------------- opening


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


_STORES: dict[str, Store] = {}
_STORES_LOCK = threading.Lock()


def open_store(settings: Settings) -> Store:
    """The store for these settings, migrated to the newest schema (one engine per URL per process)."""
    url = database_url(settings)
    with _STORES_LOCK:
        store = _STORES.get(url)
        if store is None:
            store = Store(url, settings.home)
            store.migrate()
            _STORES[url] = store
        return store


def close_stores() -> None:
    """Dispose every engine this process opened (tests, and before a fork)."""
    with _STORES_LOCK:
        for store in _STORES.values():
            store.engine.dispose()
        _STORES.clear()


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


class Store:
    """Repository functions over one database."""

    def __init__(self, url: str, home: Path) -> None:
        self.url = url
        self.home = home
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            path = url.removeprefix("sqlite:///")
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
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
        delay = 0.05
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self._session(True) as s:
                    return fn(s)
            except DBAPIError as exc:
                if not _retryable(exc):
                    raise
                if attempt == WRITE_ATTEMPTS - 1:
                    raise CoachError(
                        "the database stayed busy with another writer; nothing was written, try again"
                    ) from None
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")

    def read(self, fn: Callable[[DbSession], T]) -> T:
        """Run `fn` in one read-only transaction (a consistent snapshot)."""
        delay = 0.05
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self._session(False) as s:
                    return fn(s)
            except DBAPIError as exc:
                if not _retryable(exc) or attempt == WRITE_ATTEMPTS - 1:
                    raise
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")

    # ----------------------------------------------------------------- pairs

    @staticmethod
    def _pair_row(pair: Pair, cohort: str | None, source: str | None, pair_id: str | None = None) -> PairRow:
        return PairRow(
            id=pair_id or new_pair_id(),
            cohort=cohort,
            mentor_name=pair.mentor.name,
            mentor_role=pair.mentor.role,
            mentee_name=pair.mentee.name,
            mentee_role=pair.mentee.role,
            sessions_planned=pair.program.sessions,
            minutes=pair.program.minutes,
            cadence=pair.program.cadence,
            start=pair.program.start,
            goals_total=len(pair.mentee.goals),
            pair_json=pair.model_dump_json(),
            source=source,
            created_at=utcnow(),
        )

    def add_pair(self, pair: Pair, cohort: str | None = None, source: str | None = None) -> str:
        """Store a pair; returns its new id."""
        return self.add_pairs([pair], cohort=cohort, source=source)[0]

    def add_pairs(self, pairs: list[Pair], cohort: str | None = None, source: str | None = None) -> list[str]:
        """Store many pairs in one transaction (all or none); returns their ids in order."""
        ids: list[str] = []
        seen: set[str] = set()
        for _ in pairs:
            pid = new_pair_id()
            while pid in seen:
                pid = new_pair_id()
            seen.add(pid)
            ids.append(pid)
        now = utcnow()

        def run(s: DbSession) -> list[str]:
            rows = []
            for i, (pid, pair) in enumerate(zip(ids, pairs, strict=True)):
                row = self._pair_row(pair, cohort, source, pid)
                # A microsecond apart: lists keep the roster's order (ids are random).
                row.created_at = now + dt.timedelta(microseconds=i)
                rows.append(row)
            s.add_all(rows)
            s.flush()
            return ids

        return self.write(run)

    def resolve_pair_id(self, s: DbSession, ident: str) -> str:
        """The full id for an id or a unique prefix of at least 4 characters; InputError otherwise."""
        ident = ident.strip().lower()
        if not ID_PATTERN.match(ident):
            raise InputError("PAIR", "id", f"a pair id (see `coach pair list`), got {ident!r}")
        if s.get(PairRow, ident) is not None:
            return ident
        found = list(s.scalars(select(PairRow.id).where(PairRow.id.startswith(ident, autoescape=True)).limit(6)))
        if not found:
            raise InputError("PAIR", "id", f"the id of a stored pair (see `coach pair list`), got {ident!r}")
        if len(found) > 1:
            raise InputError("PAIR", "id", f"a unique id, but {ident!r} matches {', '.join(found[:5])}")
        return found[0]

    def find_pairs(self, mentor: str, mentee: str, cohort: str | None) -> list[str]:
        """Ids of stored pairs with these names (case-insensitive) in this cohort."""

        def run(s: DbSession) -> list[str]:
            q = select(PairRow.id).where(
                func.lower(PairRow.mentor_name) == mentor.lower(), func.lower(PairRow.mentee_name) == mentee.lower()
            )
            q = q.where(PairRow.cohort.is_(None)) if cohort is None else q.where(PairRow.cohort == cohort)
            return list(s.scalars(q))

        return self.read(run)

    def existing_names(self, cohort: str | None) -> dict[tuple[str, str], str]:
        """(mentor, mentee) lowercased -> pair id for one cohort (duplicate checks on import)."""

        def run(s: DbSession) -> dict[tuple[str, str], str]:
            q = select(PairRow.id, PairRow.mentor_name, PairRow.mentee_name)
            q = q.where(PairRow.cohort.is_(None)) if cohort is None else q.where(PairRow.cohort == cohort)
            return {(m.lower(), e.lower()): pid for pid, m, e in s.execute(q)}

        return self.read(run)

    @staticmethod
    def _latest_versions(s: DbSession, pair_ids: Iterable[str] | None = None) -> dict[str, int]:
        q = select(PlanRow.pair_id, func.max(PlanRow.version)).group_by(PlanRow.pair_id)
        if pair_ids is not None:
            q = q.where(PlanRow.pair_id.in_(list(pair_ids)))
        return {pid: int(v) for pid, v in s.execute(q)}

    @staticmethod
    def _info(row: PairRow, version: int) -> PairInfo:
        return PairInfo(
            id=row.id,
            cohort=row.cohort,
            mentor=row.mentor_name,
            mentee=row.mentee_name,
            sessions_planned=row.sessions_planned,
            cadence=row.cadence,
            start=row.start,
            created_at=row.created_at,
            plan_version=version,
            pair=Pair.model_validate_json(row.pair_json),
        )

    def list_pairs(self, cohort: str | None = None) -> list[PairInfo]:
        """Every stored pair (optionally of one cohort), oldest first."""

        def run(s: DbSession) -> list[PairInfo]:
            q = select(PairRow).order_by(PairRow.created_at, PairRow.id)
            if cohort is not None:
                q = q.where(PairRow.cohort == cohort)
            rows = list(s.scalars(q))
            versions = self._latest_versions(s)
            return [self._info(r, versions.get(r.id, 0)) for r in rows]

        return self.read(run)

    def get_pair(self, ident: str) -> PairInfo:
        """One stored pair by id or unique prefix."""

        def run(s: DbSession) -> PairInfo:
            pid = self.resolve_pair_id(s, ident)
            row = s.get(PairRow, pid)
            assert row is not None
            return self._info(row, self._latest_versions(s, [pid]).get(pid, 0))

        return self.read(run)

    def delete_pair(self, ident: str) -> tuple[str, dict[str, int]]:
        """Remove every row of the pair from every table (right to be forgotten); (id, rows deleted per table)."""

        def run(s: DbSession) -> tuple[str, dict[str, int]]:
            pid = self.resolve_pair_id(s, ident)
            counts: dict[str, int] = {}
            # Children first, explicitly: correct even where foreign-key cascades are off.
            for model in (FeedbackRow, SessionRecord, PlanRow, EvalRunRow):
                res = s.execute(delete(model).where(model.pair_id == pid))
                counts[str(model.__tablename__)] = int(res.rowcount or 0)  # type: ignore[attr-defined]
            res = s.execute(delete(PairRow).where(PairRow.id == pid))
            counts["pairs"] = int(res.rowcount or 0)  # type: ignore[attr-defined]
            return pid, counts

        return self.write(run)

    # ----------------------------------------------------------------- plans

    def save_plan(self, ident: str, plan: Plan, reason: str, run_id: int | None = None) -> int:
        """Store `plan` as the pair's next version (history is kept); returns the version number."""
        data = plan.model_dump_json()
        session_goals = json.dumps({str(x.number): sorted(set(x.goals)) for x in plan.sessions})

        def run(s: DbSession) -> int:
            pid = self.resolve_pair_id(s, ident)
            # Lock the pair row (PostgreSQL) so two writers cannot take the same version number;
            # SQLite already serialises writers with BEGIN IMMEDIATE.
            s.execute(select(PairRow.id).where(PairRow.id == pid).with_for_update())
            current = s.scalar(select(func.max(PlanRow.version)).where(PlanRow.pair_id == pid)) or 0
            s.add(
                PlanRow(
                    pair_id=pid,
                    version=current + 1,
                    reason=reason,
                    engine=plan.generated_by.engine,
                    model=plan.generated_by.model,
                    run_id=run_id,
                    sessions=len(plan.sessions),
                    session_goals=session_goals,
                    plan_json=data,
                    created_at=utcnow(),
                )
            )
            s.flush()
            return current + 1

        return self.write(run)

    @staticmethod
    def _version(row: PlanRow) -> PlanVersion:
        return PlanVersion(
            pair_id=row.pair_id,
            version=row.version,
            reason=row.reason,
            engine=row.engine,
            model=row.model,
            created_at=row.created_at,
            run_id=row.run_id,
            plan=Plan.model_validate_json(row.plan_json),
        )

    def plan_versions(self, ident: str) -> list[PlanVersion]:
        """Every version of the pair's plan, oldest first."""

        def run(s: DbSession) -> list[PlanVersion]:
            pid = self.resolve_pair_id(s, ident)
            rows = s.scalars(select(PlanRow).where(PlanRow.pair_id == pid).order_by(PlanRow.version))
            return [self._version(r) for r in rows]

        return self.read(run)

    def get_plan(self, ident: str, version: int | None = None) -> PlanVersion | None:
        """The latest (or a given) version of the pair's plan; None when it has no plan yet."""

        def run(s: DbSession) -> PlanVersion | None:
            pid = self.resolve_pair_id(s, ident)
            q = select(PlanRow).where(PlanRow.pair_id == pid)
            q = q.where(PlanRow.version == version) if version is not None else q.order_by(PlanRow.version.desc())
            row = s.scalars(q.limit(1)).first()
            return self._version(row) if row is not None else None

        return self.read(run)

    # ----------------------------------------------------------------- sessions and feedback

    def log_session(
        self,
        ident: str,
        number: int,
        status: str,
        date: dt.date,
        notes: str = "",
        ratings: dict[str, tuple[int, str]] | None = None,
    ) -> int:
        """Record what happened to session `number`, with each side's (rating, comment); returns the record id."""
        if status not in STATUSES:
            raise InputError("--status", "status", f"one of {', '.join(STATUSES)}, got {status!r}")
        ratings = ratings or {}
        for side, (rating, _comment) in ratings.items():
            if side not in SIDES:
                raise InputError(f"--rating-{side}", "side", f"one of {', '.join(SIDES)}")
            if not 1 <= rating <= 5:
                raise InputError(f"--rating-{side}", f"rating_{side}", f"a rating from 1 to 5, got {rating}")
        if ratings and status != "held":
            raise InputError("--status", "status", f"held when ratings are given (a {status} session is not rated)")

        def run(s: DbSession) -> int:
            pid = self.resolve_pair_id(s, ident)
            row = s.get(PairRow, pid)
            assert row is not None
            if not 1 <= number <= row.sessions_planned:
                raise InputError(
                    "N", "number", f"a session number from 1 to {row.sessions_planned} for pair {pid}, got {number}"
                )
            now = utcnow()
            rec = SessionRecord(pair_id=pid, number=number, status=status, date=date, notes=notes, created_at=now)
            s.add(rec)
            s.flush()
            for side, (rating, comment) in ratings.items():
                s.add(
                    FeedbackRow(
                        pair_id=pid,
                        session_record_id=rec.id,
                        number=number,
                        side=side,
                        rating=rating,
                        comment=comment,
                        created_at=now,
                    )
                )
            s.flush()
            return int(rec.id)

        return self.write(run)

    def sessions(self, ident: str) -> list[LoggedSession]:
        """Every session record of the pair, in the order they were logged, with their ratings."""

        def run(s: DbSession) -> list[LoggedSession]:
            pid = self.resolve_pair_id(s, ident)
            fb: dict[int, dict[str, tuple[int, str]]] = {}
            for f in s.scalars(select(FeedbackRow).where(FeedbackRow.pair_id == pid)):
                fb.setdefault(f.session_record_id, {})[f.side] = (f.rating, f.comment)
            recs = s.scalars(select(SessionRecord).where(SessionRecord.pair_id == pid).order_by(SessionRecord.id))
            return [
                LoggedSession(r.id, r.number, r.status, r.date, r.notes, r.created_at, fb.get(r.id, {})) for r in recs
            ]

        return self.read(run)

    def session_status(self, ident: str) -> dict[int, LoggedSession]:
        """The latest record per session number (the session's current state)."""
        latest: dict[int, LoggedSession] = {}
        for rec in self.sessions(ident):
            latest[rec.number] = rec
        return latest

    # ----------------------------------------------------------------- eval runs

    def record_eval_run(
        self, result: dict[str, Any], engine: str, model: str, passed: bool, pair_id: str | None = None
    ) -> int:
        """Store an eval result; returns its id."""

        def run(s: DbSession) -> int:
            pid = self.resolve_pair_id(s, pair_id) if pair_id else None
            row = EvalRunRow(
                pair_id=pid,
                engine=engine,
                model=model,
                passed=passed,
                result_json=json.dumps(result, ensure_ascii=False),
                created_at=utcnow(),
            )
            s.add(row)
            s.flush()
            return int(row.id)

        return self.write(run)

    def record_suite_run(self, result: dict[str, Any], engine: str, model: str, passed: bool, git_commit: str) -> int:
        """Store a `coach eval` suite run with one row per case and evaluator; returns the run id.

        `result` is the run's JSON (`SuiteResult.as_json`); its `cases[].scores` become `eval_scores` rows.
        """

        def run(s: DbSession) -> int:
            row = EvalRunRow(
                pair_id=None,
                engine=engine,
                model=model,
                passed=passed,
                result_json=json.dumps(result, ensure_ascii=False),
                created_at=utcnow(),
                kind="suite",
                git_commit=git_commit or None,
            )
            s.add(row)
            s.flush()
            for case in result.get("cases", []):
                for name, sc in case.get("scores", {}).items():
                    s.add(
                        EvalScoreRow(
                            run_id=row.id,
                            case_id=str(case["id"]),
                            evaluator=name,
                            score=float(sc["score"]),
                            passed=bool(sc["passed"]),
                            reason=str(sc.get("reason", "")),
                        )
                    )
            return int(row.id)

        return self.write(run)

    def eval_run(self, run_id: int) -> dict[str, Any] | None:
        """A stored suite run as its JSON, with `run_id` and `created_at` from the row; None if there is none."""

        def run(s: DbSession) -> dict[str, Any] | None:
            row = s.get(EvalRunRow, run_id)
            if row is None or row.kind != "suite":
                return None
            data: dict[str, Any] = json.loads(row.result_json)
            data["run_id"] = row.id
            data["created_at"] = row.created_at.isoformat(timespec="seconds") + "Z"
            return data

        return self.read(run)

    def eval_scores(self, run_id: int) -> list[tuple[str, str, float, bool, str]]:
        """(case id, evaluator, score, passed, reason) rows of a suite run, in case and evaluator order."""

        def run(s: DbSession) -> list[tuple[str, str, float, bool, str]]:
            q = select(EvalScoreRow).where(EvalScoreRow.run_id == run_id).order_by(EvalScoreRow.id)
            return [(r.case_id, r.evaluator, r.score, r.passed, r.reason) for r in s.scalars(q)]

        return self.read(run)

    def eval_runs(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest suite runs, newest first: id, created_at, engine, model, git_commit, passed."""

        def run(s: DbSession) -> list[dict[str, Any]]:
            q = select(EvalRunRow).where(EvalRunRow.kind == "suite").order_by(EvalRunRow.id.desc()).limit(limit)
            return [
                {
                    "id": r.id,
                    "created_at": r.created_at.isoformat(timespec="seconds") + "Z",
                    "engine": r.engine,
                    "model": r.model,
                    "git_commit": r.git_commit or "",
                    "passed": r.passed,
                }
                for r in s.scalars(q)
            ]

        return self.read(run)

    # ----------------------------------------------------------------- cohort runs

    def open_run(self, cohort: str | None, mode: str) -> tuple[int, bool]:
        """The unfinished run for this cohort and mode, or a new one; returns (run id, resumed)."""

        def run(s: DbSession) -> tuple[int, bool]:
            q = select(CohortRun).where(CohortRun.finished_at.is_(None), CohortRun.mode == mode)
            q = q.where(CohortRun.cohort.is_(None)) if cohort is None else q.where(CohortRun.cohort == cohort)
            found = s.scalars(q.order_by(CohortRun.id.desc()).limit(1)).first()
            if found is not None:
                return int(found.id), True
            row = CohortRun(cohort=cohort, mode=mode, started_at=utcnow(), finished_at=None)
            s.add(row)
            s.flush()
            return int(row.id), False

        return self.write(run)

    def finish_run(self, run_id: int) -> None:
        """Mark a cohort run complete."""
        self.write(lambda s: s.execute(update(CohortRun).where(CohortRun.id == run_id).values(finished_at=utcnow())))

    def pairs_to_plan(self, run_id: int, cohort: str | None, mode: str) -> list[PairInfo]:
        """Pairs the run still has to plan: without any plan ("missing") or without one from this run ("all")."""

        def run(s: DbSession) -> list[PairInfo]:
            done = select(PlanRow.pair_id)
            if mode == "all":
                done = done.where(PlanRow.run_id == run_id)
            q = select(PairRow).where(PairRow.id.not_in(done)).order_by(PairRow.created_at, PairRow.id)
            if cohort is not None:
                q = q.where(PairRow.cohort == cohort)
            rows = list(s.scalars(q))
            versions = self._latest_versions(s, [r.id for r in rows]) if mode == "all" else {}
            return [self._info(r, versions.get(r.id, 0)) for r in rows]

        return self.read(run)

    # ----------------------------------------------------------------- export and report

    def export_pair(self, ident: str) -> dict[str, Any]:
        """All of the pair's data as JSON-ready data: pair, plan versions, sessions, feedback, eval runs."""

        def stamp(value: dt.datetime) -> str:
            return value.isoformat(timespec="seconds") + "Z"

        def run(s: DbSession) -> dict[str, Any]:
            pid = self.resolve_pair_id(s, ident)
            row = s.get(PairRow, pid)
            assert row is not None
            plans = s.scalars(select(PlanRow).where(PlanRow.pair_id == pid).order_by(PlanRow.version))
            recs = s.scalars(select(SessionRecord).where(SessionRecord.pair_id == pid).order_by(SessionRecord.id))
            fbs = s.scalars(select(FeedbackRow).where(FeedbackRow.pair_id == pid).order_by(FeedbackRow.id))
            evals = s.scalars(select(EvalRunRow).where(EvalRunRow.pair_id == pid).order_by(EvalRunRow.id))
            return {
                "id": pid,
                "cohort": row.cohort,
                "source": row.source,
                "created_at": stamp(row.created_at),
                "pair": json.loads(row.pair_json),
                "plans": [
                    {
                        "version": p.version,
                        "reason": p.reason,
                        "engine": p.engine,
                        "model": p.model,
                        "cohort_run": p.run_id,
                        "created_at": stamp(p.created_at),
                        "plan": json.loads(p.plan_json),
                    }
                    for p in plans
                ],
                "sessions": [
                    {
                        "id": r.id,
                        "number": r.number,
                        "status": r.status,
                        "date": r.date.isoformat(),
                        "notes": r.notes,
                        "created_at": stamp(r.created_at),
                    }
                    for r in recs
                ],
                "feedback": [
                    {
                        "session_record": f.session_record_id,
                        "number": f.number,
                        "side": f.side,
                        "rating": f.rating,
                        "comment": f.comment,
                        "created_at": stamp(f.created_at),
                    }
                    for f in fbs
                ],
                "eval_runs": [
                    {
                        "id": e.id,
                        "engine": e.engine,
                        "model": e.model,
                        "passed": e.passed,
                        "result": json.loads(e.result_json),
                        "created_at": stamp(e.created_at),
                    }
                    for e in evals
                ],
            }

        return self.read(run)

    def report_facts(self, cohort: str | None = None) -> list[PairFacts]:
        """What coach.metrics needs for every pair, read in four queries (no plan JSON parsed)."""

        def run(s: DbSession) -> list[PairFacts]:
            pq = select(
                PairRow.id,
                PairRow.mentor_name,
                PairRow.mentee_name,
                PairRow.cohort,
                PairRow.sessions_planned,
                PairRow.cadence,
                PairRow.start,
                PairRow.goals_total,
            ).order_by(PairRow.created_at, PairRow.id)
            if cohort is not None:
                pq = pq.where(PairRow.cohort == cohort)
            pairs = list(s.execute(pq))
            wanted = {p[0] for p in pairs}
            latest = select(PlanRow.pair_id, func.max(PlanRow.version).label("v")).group_by(PlanRow.pair_id).subquery()
            goals: dict[str, tuple[int, dict[int, list[int]]]] = {}
            for pid, version, raw_goals in s.execute(
                select(PlanRow.pair_id, PlanRow.version, PlanRow.session_goals).join(
                    latest, (PlanRow.pair_id == latest.c.pair_id) & (PlanRow.version == latest.c.v)
                )
            ):
                if pid in wanted:
                    goals[pid] = (version, {int(k): v for k, v in json.loads(raw_goals).items()})
            records: dict[str, list[tuple[int, int, str, dt.date]]] = {}
            for rid, pid, number, status, date in s.execute(
                select(
                    SessionRecord.id,
                    SessionRecord.pair_id,
                    SessionRecord.number,
                    SessionRecord.status,
                    SessionRecord.date,
                )
            ):
                if pid in wanted:
                    records.setdefault(pid, []).append((rid, number, status, date))
            feedback: dict[str, list[tuple[int, int, str, int]]] = {}
            for fid, pid, number, side, rating in s.execute(
                select(FeedbackRow.id, FeedbackRow.pair_id, FeedbackRow.number, FeedbackRow.side, FeedbackRow.rating)
            ):
                if pid in wanted:
                    feedback.setdefault(pid, []).append((fid, number, side, rating))
            out = []
            for pid, mentor, mentee, coh, planned, cadence, start, goals_total in pairs:
                version, sg = goals.get(pid, (0, {}))
                out.append(
                    PairFacts(
                        id=pid,
                        mentor=mentor,
                        mentee=mentee,
                        cohort=coh,
                        sessions_planned=planned,
                        cadence=cadence,
                        start=start,
                        goals_total=goals_total,
                        plan_version=version,
                        session_goals=sg,
                        records=records.get(pid, []),
                        feedback=feedback.get(pid, []),
                    )
                )
            return out

        return self.read(run)

    def count_rows(self) -> dict[str, int]:
        """Rows per table (diagnostics and tests)."""
        from sqlalchemy import table as sa_table

        def run(s: DbSession) -> dict[str, int]:
            return {
                name: int(s.scalar(select(func.count()).select_from(sa_table(name))) or 0)
                for name in Base.metadata.tables
            }

        return self.read(run)


# --------------------------------------------------------------------------- module-level helpers


def save_plan(settings: Settings, pair_id: str, plan: Plan, reason: str) -> int:
    """Store `plan` as a new version of the stored pair's plan; returns the version number."""
    return open_store(settings).save_plan(pair_id, plan, reason)
