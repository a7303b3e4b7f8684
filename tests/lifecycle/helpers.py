"""Shared steps of the lifecycle tests: the sandbox clock, releasing, direct DB looks."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import phonenumbers
from sqlalchemy import func, select

from numberdesk.audit.models import AuditEvent
from numberdesk.calls.models import ActiveCall

RELEASE = {"reason": "no_longer_needed", "acknowledge": True}


def ts(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def sandbox_now(persona: Any) -> dt.datetime:
    r = persona.get("/v1/sandbox/clock")
    assert r.status_code == 200, r.text
    return ts(r.json()["now"])


def advance_to(persona: Any, target: dt.datetime, offset: int) -> dt.datetime:
    """Move the sandbox clock to about ``target + offset`` seconds.

    The sandbox clock is real time plus an offset and advances in whole seconds,
    so we land in ``[target + offset, target + offset + 1)`` for a positive offset
    and in ``[target + offset - 1, target + offset)`` for a negative one: on the
    right side of the boundary either way.
    """
    gap = (target - sandbox_now(persona)).total_seconds()
    seconds = math.ceil(gap) + offset if offset > 0 else math.floor(gap) + offset
    if seconds >= 1:
        persona.advance(seconds)
    now = sandbox_now(persona)
    if offset > 0:
        assert now >= target + dt.timedelta(seconds=offset - 1), (now, target)
    else:
        assert now < target, (now, target)
    return now


def active_number(persona: Any, **buy: Any) -> dict[str, Any]:
    """A number bought and provisioned (the sandbox takes 60 s of clock time)."""
    n = persona.buy(**buy)
    persona.advance(61)
    n = persona.number(n["id"])
    assert n["status"] == "active", n
    return n


def release(persona: Any, number_id: str, role: str = "owner", **body: Any) -> Any:
    return persona.post(f"/v1/numbers/{number_id}/release", {**RELEASE, **body}, role=role)


def released_number(persona: Any, **body: Any) -> dict[str, Any]:
    n = active_number(persona)
    r = release(persona, n["id"], **body)
    assert r.status_code == 200, r.text
    return r.json()


def audit_count(app: Any, account_id: str) -> int:
    with app.state.nd.db.session(write=False) as s:
        return s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.account_id == account_id))


def add_active_call(app: Any, persona: Any, number_id: str, sid: str = "CA0001") -> None:
    now = app.state.nd.clock.now()
    with app.state.nd.db.session() as s:
        s.add(ActiveCall(account_id=persona.account_id, number_id=number_id, provider="sandbox", call_sid=sid,
                         status="in_progress", from_number="+14155550100", started_at=now, updated_at=now))


def end_calls(app: Any, number_id: str) -> None:
    with app.state.nd.db.session() as s:
        s.execute(ActiveCall.__table__.delete().where(ActiveCall.number_id == number_id))


def digits(e164: str) -> str:
    """The national digits of a number, as ``contains`` searches them."""
    return phonenumbers.national_significant_number(phonenumbers.parse(e164))


def offered(persona: Any, e164: str) -> bool:
    """Whether a search by the number's own digits offers it to ``persona``."""
    return e164 in {x["phone_number"] for x in persona.search(contains=digits(e164), limit=50)}
