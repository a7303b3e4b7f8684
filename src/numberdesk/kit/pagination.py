"""Keyset cursors: opaque strings holding the sort key of the last row of a page."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from typing import Any, TypeVar

from numberdesk.errors import ValidationFailed

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
_INT64 = (-(2**63), 2**63 - 1)
T = TypeVar("T")


def encode(*values: Any) -> str:
    out = [v.isoformat() if isinstance(v, dt.datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(out, separators=(",", ":")).encode()).decode().rstrip("=")


def decode(cursor: str, *, kinds: tuple[type, ...]) -> tuple[Any, ...]:
    """Decode a cursor whose values have the given types (datetime is parsed)."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(kinds):
            raise ValueError
        out: list[Any] = []
        for value, kind in zip(raw, kinds, strict=True):
            if kind is dt.datetime:
                when = dt.datetime.fromisoformat(value)
                if when.tzinfo is None:  # we only ever write UTC times
                    raise ValueError
                out.append(when)
            elif kind is int and (isinstance(value, bool) or not isinstance(value, int)
                                  or not _INT64[0] <= value <= _INT64[1]):
                raise ValueError  # a value no column can hold would fail in the database
            elif value is None or isinstance(value, kind):
                out.append(value)
            else:
                raise ValueError
        return tuple(out)
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationFailed.field("cursor", "is not a cursor this list returned") from exc


def page(rows: list[T], limit: int, key: Callable[[T], tuple[Any, ...]]) -> tuple[list[T], str | None]:
    """A fetch of ``limit + 1`` rows (one extra, to tell whether there is more) → the page
    and the cursor of the next one (None on the last page)."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode(*key(rows[-1]))
