"""calls: rollups for analytics, routing details on calls in progress, calls by agent,
carrier call ids unique only where there is one.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import numberdesk.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_rollups",
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("dim", sa.String(length=1), nullable=False),
        sa.Column("dim_id", sa.String(length=32), nullable=False),
        sa.Column("bucket", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("duration_sum", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "dim", "dim_id", "bucket", name=op.f("pk_call_rollups")),
    )
    with op.batch_alter_table("active_calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agent_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("to_number", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("answered_at", numberdesk.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calls_agent_id"))
        batch_op.create_index("ix_calls_agent_started", ["agent_id", "started_at", "id"], unique=False)
        batch_op.drop_constraint("uq_calls_provider_call", type_="unique")
        batch_op.create_index("uq_calls_provider_call", ["provider", "provider_call_id"], unique=True,
                              sqlite_where=sa.text("provider_call_id IS NOT NULL"),
                              postgresql_where=sa.text("provider_call_id IS NOT NULL"))


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index("uq_calls_provider_call")
        batch_op.create_unique_constraint("uq_calls_provider_call", ["provider", "provider_call_id"])
        batch_op.drop_index("ix_calls_agent_started")
        batch_op.create_index(batch_op.f("ix_calls_agent_id"), ["agent_id"], unique=False)
    with op.batch_alter_table("active_calls", schema=None) as batch_op:
        batch_op.drop_column("answered_at")
        batch_op.drop_column("to_number")
        batch_op.drop_column("agent_id")
    op.drop_table("call_rollups")
