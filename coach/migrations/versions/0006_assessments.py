"""Assessments (baseline, closing, follow-ups, per side) and the reminders already sent.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assessments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pair_id", sa.String(32), sa.ForeignKey("pairs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("followup_months", sa.Integer, nullable=True),
        sa.Column("assessed_on", sa.Date, nullable=False),
        sa.Column("comfort_json", sa.Text, nullable=False),
        sa.Column("goals_json", sa.Text, nullable=False),
        sa.Column("used_at_work", sa.Boolean, nullable=True),
        sa.Column("example", sa.Text, nullable=False),
        sa.Column("recommend", sa.Integer, nullable=True),
        sa.Column("entered_by", sa.String(254), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.CheckConstraint("side IN ('mentor', 'mentee')", name="ck_assessments_side"),
        sa.CheckConstraint("kind IN ('baseline', 'closing', 'followup')", name="ck_assessments_kind"),
        sa.CheckConstraint(
            "(kind = 'followup' AND followup_months IN (3, 12, 24)) OR (kind <> 'followup' AND followup_months IS NULL)",
            name="ck_assessments_followup",
        ),
        sa.CheckConstraint("recommend IS NULL OR recommend BETWEEN 0 AND 10", name="ck_assessments_recommend"),
    )
    op.create_index("ix_assessments_pair_id", "assessments", ["pair_id"])
    op.create_table(
        "reminders_sent",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(300), nullable=False, unique=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("sent_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("reminders_sent")
    op.drop_index("ix_assessments_pair_id", table_name="assessments")
    op.drop_table("assessments")
