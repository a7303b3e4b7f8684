"""billing: charge periods, inactive causes, sweep marks.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

import numberdesk.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _bounds(cycle: str) -> tuple[dt.datetime, dt.datetime]:
    year, month = int(cycle[:4]), int(cycle[5:7])
    start = dt.datetime(year, month, 1)
    end = dt.datetime(year + month // 12, month % 12 + 1, 1)
    return start, end


def upgrade() -> None:
    with op.batch_alter_table("charges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("period_start", numberdesk.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("period_end", numberdesk.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_index("ix_charges_account_cycle")
        batch_op.create_index("ix_charges_account_cycle_id", ["account_id", "cycle", "id"], unique=False)

    # Charges written before this revision get their cycle's bounds.
    bind = op.get_bind()
    charges = sa.table("charges", sa.column("id", sa.Integer), sa.column("cycle", sa.String),
                       sa.column("period_start", sa.DateTime), sa.column("period_end", sa.DateTime))
    for cid, cycle in bind.execute(sa.select(charges.c.id, charges.c.cycle)).all():
        start, end = _bounds(cycle)
        if bind.dialect.name != "sqlite":
            start, end = start.replace(tzinfo=dt.UTC), end.replace(tzinfo=dt.UTC)
        bind.execute(charges.update().where(charges.c.id == cid).values(period_start=start, period_end=end))

    with op.batch_alter_table("charges", schema=None) as batch_op:
        batch_op.alter_column("period_start", existing_type=numberdesk.db.UTCDateTime(timezone=True),
                              nullable=False)
        batch_op.alter_column("period_end", existing_type=numberdesk.db.UTCDateTime(timezone=True),
                              nullable=False)

    op.create_table(
        "inactive_causes",
        sa.Column("number_id", sa.String(length=32), nullable=False),
        sa.Column("cause", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("since", numberdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("cause IN ('billing','configuration')", name=op.f("ck_inactive_causes_cause")),
        sa.ForeignKeyConstraint(["number_id"], ["phone_numbers.id"],
                                name=op.f("fk_inactive_causes_number_id_phone_numbers"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("number_id", "cause", name=op.f("pk_inactive_causes")),
    )
    with op.batch_alter_table("inactive_causes", schema=None) as batch_op:
        batch_op.create_index("ix_inactive_causes_account", ["account_id", "cause"], unique=False)

    op.create_table(
        "billing_sweep_marks",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("ran_at", numberdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cursor", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_billing_sweep_marks")),
    )


def downgrade() -> None:
    op.drop_table("billing_sweep_marks")
    with op.batch_alter_table("inactive_causes", schema=None) as batch_op:
        batch_op.drop_index("ix_inactive_causes_account")
    op.drop_table("inactive_causes")
    with op.batch_alter_table("charges", schema=None) as batch_op:
        batch_op.drop_index("ix_charges_account_cycle_id")
        batch_op.create_index("ix_charges_account_cycle", ["account_id", "cycle"], unique=False)
        batch_op.drop_column("period_end")
        batch_op.drop_column("period_start")
