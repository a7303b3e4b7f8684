"""Billing cycles and the cycles a number owes: pure functions, no I/O.

A cycle is a calendar month in UTC, written ``YYYY-MM``. A number is charged its
full monthly price once for every cycle in which it was ``active`` or
``inactive`` at any moment (no proration). Its billable time is a list of
half-open intervals ``[start, end)`` taken from its status history: a number
released at ``end`` was billable up to, not at, that instant, so a release at
``00:00:00`` on the 1st owes nothing for the new month, while a release one
second earlier owes nothing more than the month it ends.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from numberdesk.numbers.lifecycle import BILLED

_CYCLE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_cycle(value: str) -> str:
    """The cycle ``YYYY-MM`` as given; ``ValueError`` when it is not one."""
    if not _CYCLE.match(value or ""):
        raise ValueError(f"{value!r} is not a billing cycle such as 2026-03")
    return value


def cycle_of(t: dt.datetime) -> str:
    """The cycle an instant falls in (its UTC calendar month)."""
    t = t.astimezone(dt.UTC)
    return f"{t.year:04d}-{t.month:02d}"


def cycle_start(cycle: str) -> dt.datetime:
    year, month = int(cycle[:4]), int(cycle[5:7])
    return dt.datetime(year, month, 1, tzinfo=dt.UTC)


def next_cycle(cycle: str) -> str:
    year, month = int(cycle[:4]), int(cycle[5:7])
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


def previous_cycle(cycle: str) -> str:
    year, month = int(cycle[:4]), int(cycle[5:7])
    return f"{year - 1:04d}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"


def cycle_end(cycle: str) -> dt.datetime:
    """The first instant after the cycle (the start of the next one)."""
    return cycle_start(next_cycle(cycle))


def cycles(first: str, last: str) -> list[str]:
    """Every cycle from ``first`` to ``last``, both included (empty when first > last)."""
    out: list[str] = []
    c, end = first, cycle_start(last)
    while cycle_start(c) <= end:
        out.append(c)
        c = next_cycle(c)
    return out


@dataclass(frozen=True)
class Interval:
    """A span ``[start, end)`` in which the number was billable; ``end`` None: still is."""

    start: dt.datetime
    end: dt.datetime | None = None

    def first_cycle(self) -> str:
        return cycle_of(self.start)

    def last_cycle(self, until: str) -> str:
        """The last cycle the span touches (``until`` when it is still open)."""
        if self.end is None:
            return until
        last = cycle_of(self.end)
        # Billable up to, not at, ``end``: ending exactly at a cycle's first instant
        # touches only the cycle before (unless the span is a single instant).
        if self.end == cycle_start(last) and self.end > self.start:
            last = previous_cycle(last)
        return last


def billable_intervals(changes: Iterable[tuple[dt.datetime, str]], until: dt.datetime) -> list[Interval]:
    """The spans in which a number was active or inactive.

    ``changes`` are its status changes ``(at, to_status)`` oldest first; changes
    after ``until`` are not known yet and are ignored.
    """
    out: list[Interval] = []
    start: dt.datetime | None = None
    for at, to_status in changes:
        if at > until:
            break
        billed = to_status in BILLED
        if billed and start is None:
            start = at
        elif not billed and start is not None:
            out.append(Interval(start, at))
            start = None
    if start is not None:
        out.append(Interval(start, None))
    return out


def cycles_to_charge(intervals: Iterable[Interval], first: str, last: str) -> list[str]:
    """The cycles from ``first`` to ``last`` (inclusive) in which any interval has a moment."""
    owed: set[str] = set()
    for iv in intervals:
        lo = max(iv.first_cycle(), first)
        hi = min(iv.last_cycle(last), last)
        owed.update(cycles(lo, hi))
    return sorted(owed)


def charge_due_at(intervals: Iterable[Interval], cycle: str) -> dt.datetime | None:
    """The instant a cycle's charge fell due: the cycle's start, or the first billable
    moment in it (activation mid-month); None when the cycle owes nothing."""
    cs, ce = cycle_start(cycle), cycle_end(cycle)
    best: dt.datetime | None = None
    for iv in intervals:
        if iv.first_cycle() <= cycle <= iv.last_cycle(cycle):
            at = max(iv.start, cs)
            if at < ce and (best is None or at < best):
                best = at
    return best
