"""Matches: the people-file ids of each published pair, and each side's fit answers.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "match_links",
        sa.Column("pair_id", sa.String(32), sa.ForeignKey("pairs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("cohort", sa.String(200), nullable=True),
        sa.Column("mentor_ref", sa.String(40), nullable=False),
        sa.Column("mentee_ref", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_match_links_cohort", "match_links", ["cohort"])
    op.create_table(
        "fit_answers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pair_id", sa.String(32), sa.ForeignKey("pairs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("answer", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.CheckConstraint("side IN ('mentor', 'mentee')", name="ck_fit_answers_side"),
        sa.CheckConstraint(
            "answer IN ('good-fit', 'still-deciding', 'not-a-good-fit')", name="ck_fit_answers_answer"
        ),
    )
    op.create_index("ix_fit_answers_pair", "fit_answers", ["pair_id"])


def downgrade() -> None:
    op.drop_index("ix_fit_answers_pair", table_name="fit_answers")
    op.drop_table("fit_answers")
    op.drop_index("ix_match_links_cohort", table_name="match_links")
    op.drop_table("match_links")
