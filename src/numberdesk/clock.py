"""The one clock. Every time-based rule reads ``now()`` from here, nowhere else.

In sandbox mode the clock can be moved forward (like Stripe's test clocks): the
offset lives in the database so every API process and the worker agree. Each
process re-reads it at most once a second; the process that moves the clock
sees the new time at once.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Protocol

from sqlalchemy import select, update

from numberdesk.db import Database


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Clock(Protocol):
    movable: bool

    def now(self) -> dt.datetime: ...

    def advance(self, seconds: float) -> dt.datetime: ...


class SystemClock:
    movable = False

    def now(self) -> dt.datetime:
        return utcnow()

    def advance(self, seconds: float) -> dt.datetime:
        raise RuntimeError("the system clock cannot be moved")


class SandboxClock:
    """Real time plus an offset stored in the ``clock_state`` row."""

    movable = True
    refresh_seconds = 1.0

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._offset = 0.0
        self._read_at = -1e9

    def _load(self) -> float:
        from numberdesk.system.models import ClockState

        with self._db.session(write=False) as s:
            offset = s.scalar(select(ClockState.offset_seconds).where(ClockState.id == 1))
        return float(offset or 0.0)

    def offset(self) -> float:
        mono = time.monotonic()
        if mono - self._read_at > self.refresh_seconds:
            value = self._load()
            with self._lock:
                self._offset, self._read_at = value, mono
        return self._offset

    def now(self) -> dt.datetime:
        return utcnow() + dt.timedelta(seconds=self.offset())

    def advance(self, seconds: float) -> dt.datetime:
        from numberdesk.system.models import ClockState

        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._db.session() as s:
            changed = s.execute(
                update(ClockState)
                .where(ClockState.id == 1)
                .values(offset_seconds=ClockState.offset_seconds + seconds)
            ).rowcount
            if not changed:
                s.add(ClockState(id=1, offset_seconds=seconds))
            s.flush()
            value = float(s.scalar(select(ClockState.offset_seconds).where(ClockState.id == 1)))
        with self._lock:
            self._offset, self._read_at = value, time.monotonic()
        return self.now()
