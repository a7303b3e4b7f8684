"""The one clock. Every time-based rule reads ``now()`` from a ``Clock``, nowhere else.

A deployment on a real carrier runs on ``SystemClock``; the sandbox's clock can be
moved forward (``providers.sandbox.clock.SandboxClock``).
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol


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
