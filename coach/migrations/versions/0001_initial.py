"""Initial schema: pairs, plan versions, session records, feedback, cohort runs, eval runs.

Revision ID: 0001
Revises:
Create Date: 2025-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pairs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("cohort", sa.String(200), nullable=True),
        sa.Column("mentor_name", sa.String(120), nullable=False),
        sa.Column("mentor_role", sa.String(120), nullable=False),
        sa.Column("mentee_name", sa.String(120), nullable=False),
        sa.Column("mentee_role", sa.String(120), nullable=False),
        sa.Column("sessions_planned", sa.Integer, nullable=False),
        sa.Column("minutes", sa.Integer, nullable=False),
        sa.Column("cadence", sa.String(16), nullable=False),
        sa.Column("start", sa.Date, nullable=False),
        sa.Column("goals_total", sa.Integer, nullable=False),
        sa.Column("pair_json", sa.Text, nullable=False),
        sa.Column("source", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_pairs_cohort", "pairs", ["cohort"])
    op.create_table(
        "cohort_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("cohort", sa.String(200), nullable=True),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime, nullable=True),
    )
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pair_id", sa.String(32), sa.ForeignKey("pairs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("engine", sa.String(60), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("cohort_runs.id", ondelete="SET NULL"), nullable=True),
        sa.Column("sessions", sa.Integer, nullable=False),
        sa.Column("session_goals", sa.Text, nullable=False),
        sa.Column("plan_json", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("pair_id", "version", name="uq_plans_pair_version"),
    )
    op.create_index("ix_plans_pair_id", "plans", ["pair_id"])
    op.create_index("ix_plans_run_id", "plans", ["run_id"])
    op.create_table(
        "session_records",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pair_id", sa.String(32), sa.ForeignKey("pairs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.CheckConstraint("status IN ('held', 'cancelled', 'moved')", name="ck_session_records_status"),
        sa.CheckConstraint("number >= 1", name="ck_session_records_number"),
    )
    op.create_index("ix_session_records_pair_number", "session_records", ["pair_id", "number"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pair_id", sa.String(32), sa.ForeignKey("pairs.id", ondelete="CASCADE"), nullable=False),
        sa.Column(
            "session_record_id",
            sa.Integer,
            sa.ForeignKey("session_records.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("rating", sa.Integer, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="ck_feedback_rating"),
        sa.CheckConstraint("side IN ('mentor', 'mentee')", name="ck_feedback_side"),
    )
    op.create_index("ix_feedback_pair_id", "feedback", ["pair_id"])
    op.create_index("ix_feedback_session_record_id", "feedback", ["session_record_id"])
    op.create_table(
        "eval_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pair_id", sa.String(32), sa.ForeignKey("pairs.id", ondelete="CASCADE"), nullable=True),
        sa.Column("engine", sa.String(60), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("result_json", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_eval_runs_pair_id", "eval_runs", ["pair_id"])


def downgrade() -> None:
    for name in ("eval_runs", "feedback", "session_records", "plans", "cohort_runs", "pairs"):
        op.drop_table(name)
