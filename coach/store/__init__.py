"""The program database: `open_store` and a `Store` composed of one repository per kind of record.

Each module holds one job: `schema` the tables, `database` the engine, migrations and retried
transactions, `pairs` pairs and plan versions, `sessions` session records and feedback, `runs`
eval and cohort runs, `reports` the reads across every table, `accounts` and `web_sessions` who
signs in, `assessments` each side's baseline, closing and follow-up answers, `reminders` the
e-mails already sent. A new kind of record (accounts,
assessments, matches) gets its own repository module, added to `Store`'s bases here.

Importing this package imports SQLAlchemy, so nothing imports it at import time: the CLI and the
other modules import it inside the functions that need the database.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from coach.store.accounts import Account, AccountRepository, Throttled
from coach.store.assessments import AssessmentRepository, AssessmentRow
from coach.store.database import BUSY_TIMEOUT_MS, HEAD_REVISION, MIGRATIONS_DIR, WRITE_ATTEMPTS, database_url
from coach.store.locks import Busy, LockRepository
from coach.store.matches import MatchRepository
from coach.store.pairs import ID_PATTERN, PairInfo, PlanVersion, new_pair_id
from coach.store.reminders import ReminderRepository, ReminderSentRow
from coach.store.reports import ReportRepository
from coach.store.runs import RunRepository
from coach.store.schema import (
    PAIR_TABLES,
    Base,
    CohortRun,
    EvalRunRow,
    EvalScoreRow,
    FeedbackRow,
    PairRow,
    PlanRow,
    SessionRecord,
    utcnow,
)
from coach.store.sessions import SIDES, STATUSES, LoggedSession, SessionRepository
from coach.store.web_sessions import WebSession, WebSessionRepository

if TYPE_CHECKING:
    from coach.config import Settings
    from coach.models import Plan

__all__ = [
    "BUSY_TIMEOUT_MS",
    "HEAD_REVISION",
    "ID_PATTERN",
    "MIGRATIONS_DIR",
    "PAIR_TABLES",
    "SIDES",
    "STATUSES",
    "WRITE_ATTEMPTS",
    "Account",
    "AssessmentRow",
    "Base",
    "Busy",
    "CohortRun",
    "EvalRunRow",
    "EvalScoreRow",
    "FeedbackRow",
    "LoggedSession",
    "PairInfo",
    "PairRow",
    "PlanRow",
    "PlanVersion",
    "ReminderSentRow",
    "SessionRecord",
    "Store",
    "Throttled",
    "WebSession",
    "close_stores",
    "database_url",
    "new_pair_id",
    "open_store",
    "save_plan",
    "utcnow",
]


class Store(
    WebSessionRepository,
    AccountRepository,
    AssessmentRepository,
    MatchRepository,
    SessionRepository,
    RunRepository,
    ReportRepository,
    LockRepository,
    ReminderRepository,
):
    """Repository functions over one database (pairs, plans, sessions, runs, reports, matches, locks, accounts, assessments)."""


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


def save_plan(settings: Settings, pair_id: str, plan: Plan, reason: str) -> int:
    """Store `plan` as a new version of the stored pair's plan; returns the version number."""
    return open_store(settings).save_plan(pair_id, plan, reason)
