"""Shared checks of the core tests: problem+json answers and row counts."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import create_engine, text

COUNTED = ("phone_numbers", "agents", "audit_events")


def assert_problem(r: httpx.Response, status: int | None = None, code: str | None = None) -> dict[str, Any]:
    """A problem+json answer with a stable code (and the given status / code when named)."""
    assert r.headers["content-type"].startswith("application/problem+json"), (r.status_code, r.text)
    body = r.json()
    assert isinstance(body.get("code"), str) and body["code"], body
    assert body["status"] == r.status_code, body
    if status is not None:
        assert r.status_code == status, (r.status_code, r.text)
    if code is not None:
        assert body["code"] == code, body
    return body


def counts(db_url: str, tables: tuple[str, ...] = COUNTED) -> dict[str, int]:
    """Rows per table, read with a connection of its own (what is committed)."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as c:
            return {t: int(c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in tables}
    finally:
        engine.dispose()


def query(db_url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Run one statement in a transaction of its own; the rows it returns, if any."""
    engine = create_engine(db_url)
    try:
        with engine.begin() as c:
            result = c.execute(text(sql), params)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()
