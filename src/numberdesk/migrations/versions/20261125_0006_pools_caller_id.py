"""pools: outbound caller-ID state (round-robin cursor, sticky callee → number).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 21:09:50.588636
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import numberdesk.db

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pool_sticky',
    sa.Column('pool_id', sa.String(length=32), nullable=False),
    sa.Column('callee', sa.String(length=20), nullable=False),
    sa.Column('number_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', numberdesk.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['number_id'], ['phone_numbers.id'], name=op.f('fk_pool_sticky_number_id_phone_numbers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pool_id'], ['pools.id'], name=op.f('fk_pool_sticky_pool_id_pools'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pool_id', 'callee', name=op.f('pk_pool_sticky'))
    )
    with op.batch_alter_table('pools', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rr_cursor', sa.Integer(), server_default='0', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('pools', schema=None) as batch_op:
        batch_op.drop_column('rr_cursor')

    op.drop_table('pool_sticky')
