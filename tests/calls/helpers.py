"""Building call records for the ingest API."""

from __future__ import annotations

import datetime as dt
from typing import Any

UTC = dt.UTC


def utc(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def z(t: dt.datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def call(number: str, started: str | dt.datetime, status: str = "completed", talk: int = 60,
         ring: int = 10, caller: str = "+14155550123", direction: str = "inbound") -> dict[str, Any]:
    """One record: a completed call rings ``ring`` s and talks ``talk`` s; a missed one rings and ends."""
    start = utc(started) if isinstance(started, str) else started
    rec: dict[str, Any] = {"number": number, "direction": direction, "from": caller, "to": number,
                           "started_at": z(start), "status": status}
    if direction == "outbound":
        rec["from"], rec["to"] = number, caller
    if status == "completed":
        rec["answered_at"] = z(start + dt.timedelta(seconds=ring))
        rec["ended_at"] = z(start + dt.timedelta(seconds=ring + talk))
    else:
        rec["ended_at"] = z(start + dt.timedelta(seconds=ring))
    return rec


def ingest(persona: Any, calls: list[dict[str, Any]], role: str = "admin") -> Any:
    r = persona.post("/v1/calls", {"calls": calls}, role=role)
    assert r.status_code == 201, r.text
    assert r.json() == {"ingested": len(calls)}
    return r
