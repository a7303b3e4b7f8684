"""Moving the sandbox clock to chosen instants, and reading the ledger, for billing tests."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

from numberdesk.billing import ledger


def clock_now(p: Any) -> dt.datetime:
    r = p.get("/v1/sandbox/clock")
    assert r.status_code == 200, r.text
    return dt.datetime.fromisoformat(r.json()["now"].replace("Z", "+00:00"))


def advance_to(p: Any, target: dt.datetime) -> dt.datetime:
    """Move the clock to ``target`` (at most a second past it: the clock keeps running)."""
    seconds = math.ceil((target - clock_now(p)).total_seconds())
    assert seconds >= 1, f"{target} is already past"
    p.advance(seconds)
    now = clock_now(p)
    assert target <= now < target + dt.timedelta(seconds=30), (target, now)
    return now


def next_cycle_start(p: Any, after: dt.datetime | None = None) -> dt.datetime:
    return ledger.cycle_end(ledger.cycle_of(after or clock_now(p)))


def cycle_at(p: Any, offset: dt.timedelta = dt.timedelta(0)) -> str:
    return ledger.cycle_of(clock_now(p) + offset)


def charges(p: Any, cycle: str) -> list[dict[str, Any]]:
    r = p.get("/v1/billing/charges", params={"cycle": cycle, "limit": 500})
    assert r.status_code == 200, r.text
    return r.json()["data"]


def total(p: Any, cycle: str) -> Decimal:
    """The cycle's total in the account's one currency (0 when nothing was charged)."""
    r = p.get("/v1/billing/charges", params={"cycle": cycle})
    assert r.status_code == 200, r.text
    totals = r.json()["total"]
    assert len(totals) <= 1, totals
    return Decimal(totals[0]["amount"]) if totals else Decimal(0)


def charged_cycles(p: Any, number_id: str, cycles: list[str]) -> list[str]:
    return [c for c in cycles if any(x["number_id"] == number_id for x in charges(p, c))]


def price(n: dict[str, Any]) -> Decimal:
    return Decimal(n["monthly_price"]["amount"])


def activate(p: Any, **buy: Any) -> dict[str, Any]:
    """Buy a number and let the sandbox provision it."""
    n = p.buy(**buy)
    p.advance(61)
    n = p.number(n["id"])
    assert n["status"] == "active", n
    return n
