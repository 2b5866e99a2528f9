"""Eval suite runs: the git commit and kind of a run, and one score row per case and evaluator.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("eval_runs") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=True))
        batch.add_column(sa.Column("git_commit", sa.String(60), nullable=True))
        batch.create_index("ix_eval_runs_kind", ["kind"])
    op.create_table(
        "eval_scores",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("eval_runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("case_id", sa.String(120), nullable=False),
        sa.Column("evaluator", sa.String(40), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_index("ix_eval_scores_run_case", "eval_scores", ["run_id", "case_id"])


def downgrade() -> None:
    op.drop_index("ix_eval_scores_run_case", table_name="eval_scores")
    op.drop_table("eval_scores")
    with op.batch_alter_table("eval_runs") as batch:
        batch.drop_index("ix_eval_runs_kind")
        batch.drop_column("git_commit")
        batch.drop_column("kind")
