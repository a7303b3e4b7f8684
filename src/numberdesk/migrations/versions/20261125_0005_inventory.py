"""inventory: one index per sort of the numbers list, each ending in id.

Keyset pages of ``GET /v1/numbers`` compare ``(sort column, id)`` with the last row
of the previous page; with an index on ``(account_id, sort column, id)`` that is a
seek on SQLite and PostgreSQL alike, however deep the page. The (account_id,
status) and (account_id, phone_number) indexes become prefixes of the new ones.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

NEW = {
    "ix_phone_numbers_account_status_id": ["account_id", "status", "id"],
    "ix_phone_numbers_account_number": ["account_id", "phone_number", "id"],
    "ix_phone_numbers_account_name": ["account_id", "friendly_name", "id"],
    "ix_phone_numbers_account_price": ["account_id", "monthly_price_minor", "id"],
}
OLD = {
    "ix_phone_numbers_account_status": ["account_id", "status"],
    "ix_phone_numbers_account_e164": ["account_id", "phone_number"],
}


def upgrade() -> None:
    with op.batch_alter_table("phone_numbers", schema=None) as batch_op:
        for name in OLD:
            batch_op.drop_index(name)
        for name, columns in NEW.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("phone_numbers", schema=None) as batch_op:
        for name in NEW:
            batch_op.drop_index(name)
        for name, columns in OLD.items():
            batch_op.create_index(name, columns, unique=False)
