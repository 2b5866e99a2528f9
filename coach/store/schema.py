"""The program tables as SQLAlchemy ORM rows, and which of them hold a pair's data."""

from __future__ import annotations

import datetime as dt

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
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> dt.datetime:
    """Naive UTC now: both backends store it the same way."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


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
    # coach/store/matches.py
    "match_links": "pair_id",
    "fit_answers": "pair_id",
    # coach/store/accounts.py (the link only: the account itself stays)
    "account_pairs": "pair_id",
    # coach/store/assessments.py
    "assessments": "pair_id",
}
