"""How times and spans are written: RFC 3339 on the wire, UTC stamps and spans in words.

The one place for these formats; each span style below is what one surface has
always shown (the API's eligibility checks, the troubleshooting checks, the
dashboard's countdowns), kept exactly so nothing a user reads changes.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Literal

SpanStyle = Literal["clock", "words", "short"]


def rfc3339(value: dt.datetime | None) -> str | None:
    """UTC with a Z, whole seconds unless the value has a fraction; None stays None."""
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")


def utc_text(t: dt.datetime, *, seconds: bool = False) -> str:
    """``2026-03-08 14:05 UTC`` (with ``:SS`` when ``seconds``)."""
    return t.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")


def span(seconds: float, style: SpanStyle = "short") -> str:
    """A span a person reads at a glance.

    ``clock``: ``1d 2h 3m``, ``2h 3m 4s``, ``3m 4s``, ``4s`` (rounded down to the second).
    ``words``: ``2 days 3 h``, ``5 h 12 min``, ``40 min``, ``under a minute``.
    ``short``: ``45 s``, ``12 m``, ``5 h 12 m``, ``1 d 4 h``, ``9 days``.
    """
    if style == "clock":
        d, rest = divmod(max(int(seconds), 0), 86400)
        h, rest = divmod(rest, 3600)
        m, sec = divmod(rest, 60)
        if d:
            return f"{d}d {h}h {m}m"
        if h:
            return f"{h}h {m}m {sec}s"
        return f"{m}m {sec}s" if m else f"{sec}s"
    if style == "words":
        minutes = max(0, math.floor(seconds / 60))
        days, rest = divmod(minutes, 24 * 60)
        hours, mins = divmod(rest, 60)
        if days:
            return f"{days} day{'s' if days != 1 else ''}" + (f" {hours} h" if hours else "")
        if hours:
            return f"{hours} h" + (f" {mins} min" if mins else "")
        return f"{mins} min" if mins else "under a minute"
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} s"
    m = s // 60
    if m < 60:
        return f"{m} m"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h} h {m} m" if m else f"{h} h"
    d, h = divmod(h, 24)
    if d < 2:
        return f"{d} d {h} h" if h else f"{d} d"
    return f"{d} days"
