"""The sandbox's movable clock (like Stripe's test clocks): real time plus an offset.

The offset lives in the database (``clock_state``) so every API process and the
worker agree. Each process re-reads it at most once a second; the process that
moves the clock sees the new time at once.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

from sqlalchemy import Float, Integer, select, update
from sqlalchemy.orm import Mapped, mapped_column

from numberdesk.clock import utcnow
from numberdesk.db import Base, Database


class ClockState(Base):
    __tablename__ = "clock_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offset_seconds: Mapped[float] = mapped_column(Float, default=0.0)


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
