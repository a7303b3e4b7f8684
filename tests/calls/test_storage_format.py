"""The bulk writer stores times exactly as SQLAlchemy would (they are compared as text on SQLite)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from numberdesk.calls.service import rollup_deltas, sqlite_time
from numberdesk.db import UTCDateTime

_DIALECT = sqlite.dialect()
_SA = UTCDateTime().dialect_impl(_DIALECT).bind_processor(_DIALECT)
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))


@given(st.datetimes(min_value=dt.datetime(1971, 1, 2), max_value=dt.datetime(9998, 12, 30)), offsets)
def test_sqlite_time_matches_sqlalchemy(naive: dt.datetime, tz: dt.timezone) -> None:
    value = naive.replace(tzinfo=tz)
    assert sqlite_time(value) == _SA(value)


def test_rollup_deltas_per_quarter_hour_and_dimension() -> None:
    t = dt.datetime(2026, 3, 8, 14, 0, tzinfo=dt.UTC)
    base = {"account_id": "acct_a", "agent_id": "agt_1", "number_id": "num_1"}
    rows = [
        {**base, "started_at": t, "status": "completed", "duration_seconds": 60},
        {**base, "started_at": t + dt.timedelta(minutes=14, seconds=59), "status": "busy", "duration_seconds": 0},
        {**base, "started_at": t + dt.timedelta(minutes=15), "status": "completed", "duration_seconds": 30,
         "agent_id": None},
    ]
    b0, b1 = int(t.timestamp()), int(t.timestamp()) + 900
    assert rollup_deltas(rows) == [
        ("acct_a", "a", "", b0, 2, 1, 60), ("acct_a", "a", "", b1, 1, 1, 30),
        ("acct_a", "g", "agt_1", b0, 2, 1, 60),
        ("acct_a", "n", "num_1", b0, 2, 1, 60), ("acct_a", "n", "num_1", b1, 1, 1, 30),
    ]
