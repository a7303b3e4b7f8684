"""Periods in the account's time zone: parsing bounds and the local buckets of a series. Pure, no I/O.

A bucket is named by the UTC instant it starts at. Hours, days and weeks are
local: a day starts at local midnight (so it lasts 23 or 25 hours across a DST
change), a week at local midnight on Monday, and the repeated hour of a
fall-back night is two buckets.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable, Iterator
from typing import Literal

from numberdesk.errors import ValidationFailed

Granularity = Literal["hour", "day", "week"]
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
UTC = dt.UTC


def zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def parse_bound(value: str, tz: dt.tzinfo, field: str) -> dt.datetime:
    """A date (local midnight), an RFC 3339 time, or a local time without offset → UTC."""
    v = value.strip()
    try:
        if _DATE.match(v):
            d = dt.date.fromisoformat(v)
            return local_midnight(d, tz)
        t = dt.datetime.fromisoformat(v.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValidationFailed.field(field, "must be a date (2026-03-08) or an RFC 3339 time") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=tz)
    return t.astimezone(UTC)


def local_midnight(d: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """The instant local day ``d`` starts (where midnight is skipped, the first instant after)."""
    return dt.datetime(d.year, d.month, d.day, tzinfo=tz).astimezone(UTC)


def hour_start(t: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """The UTC instant the local hour holding ``t`` started."""
    local = t.astimezone(tz)
    return (t - dt.timedelta(minutes=local.minute, seconds=local.second,
                             microseconds=local.microsecond)).astimezone(UTC)


def keyer(granularity: Granularity, tz: dt.tzinfo) -> Callable[[dt.datetime], dt.datetime]:
    """A function from an instant to the start of its local bucket (memoised per local date)."""
    if granularity == "hour":
        return lambda t: hour_start(t, tz)
    cache: dict[dt.date, dt.datetime] = {}

    def key(t: dt.datetime) -> dt.datetime:
        d = t.astimezone(tz).date()
        if granularity == "week":
            d -= dt.timedelta(days=d.weekday())
        start = cache.get(d)
        if start is None:
            start = cache[d] = local_midnight(d, tz)
        return start

    return key


def buckets(start: dt.datetime, end: dt.datetime, granularity: Granularity,
            tz: dt.tzinfo) -> Iterator[dt.datetime]:
    """The start of every local bucket that overlaps [start, end), in order."""
    if granularity == "hour":
        t = hour_start(start, tz)
        while t < end:
            yield t
            nxt = hour_start(t + dt.timedelta(hours=1), tz)
            # A DST shift of less than an hour (Lord Howe) can land inside the same hour.
            t = nxt if nxt > t else t + dt.timedelta(hours=1)
        return
    d = start.astimezone(tz).date()
    if granularity == "week":
        d -= dt.timedelta(days=d.weekday())
    step = dt.timedelta(days=7 if granularity == "week" else 1)
    while (t := local_midnight(d, tz)) < end:
        yield t
        d += step


def bucket_count_estimate(start: dt.datetime, end: dt.datetime, granularity: Granularity) -> int:
    seconds = {"hour": 3600, "day": 86400, "week": 7 * 86400}[granularity]
    return int((end - start).total_seconds() // seconds) + 2
