"""INSERT … ON CONFLICT on SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def dialect_insert(dialect: str, table: Any) -> Any:
    """The INSERT construct with ON CONFLICT of this dialect (SQLite or PostgreSQL)."""
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


def insert_ignore(session: Session, table: Any, values: dict[str, Any]) -> int:
    """Insert one row unless a unique constraint already holds it; 1 if inserted, else 0.

    The database decides, so racing workers insert a row exactly once. RETURNING
    tells what happened (drivers report rowcount -1 for an insert that returns keys).
    """
    stmt = dialect_insert(session.get_bind().dialect.name, table).values(**values).on_conflict_do_nothing().returning(*table.primary_key.columns)
    return len(session.execute(stmt).all())


def insert_many_ignore(session: Session, table: Any, rows: list[dict[str, Any]]) -> int:
    """``insert_ignore`` for many rows in one statement; returns how many were inserted."""
    if not rows:
        return 0
    # executemany with RETURNING: SQLAlchemy batches it into multi-row INSERTs ("insertmanyvalues").
    stmt = dialect_insert(session.get_bind().dialect.name, table).on_conflict_do_nothing().returning(*table.primary_key.columns)
    return len(session.execute(stmt, rows).all())
