"""The ledger driven through the API by the sandbox clock: exact totals per cycle."""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from numberdesk.billing import ledger
from numberdesk.billing.models import Charge
from numberdesk.billing.service import set_account_status, sweep_charges
from numberdesk.worker.runner import run_due

from .helpers import (
    activate,
    advance_to,
    charged_cycles,
    charges,
    clock_now,
    next_cycle_start,
    price,
    total,
)

DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # A long reclaim window, so a number released in one month can come back two months later.
    return {"reclaim_days": 60}


def cycles_from(first: dt.datetime, count: int) -> list[str]:
    out = [ledger.cycle_of(first)]
    while len(out) < count:
        out.append(ledger.next_cycle(out[-1]))
    return out


def release(p: Any, number_id: str) -> dict[str, Any]:
    r = p.post(f"/v1/numbers/{number_id}/release", {"reason": "no_longer_needed", "acknowledge": True})
    assert r.status_code == 200, r.text
    return r.json()


def reactivate(p: Any, number_id: str) -> dict[str, Any]:
    r = p.post(f"/v1/numbers/{number_id}/reactivate", {})
    assert r.status_code == 200, r.text
    return r.json()


def ts(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_activation_mid_month_is_charged_once_at_activation(alice) -> None:  # type: ignore[no-untyped-def]
    c1 = next_cycle_start(alice)
    advance_to(alice, c1 + 14 * DAY + 9 * HOUR)
    n = alice.buy()
    cycles = cycles_from(c1, 2)
    assert charges(alice, cycles[0]) == []          # pending: not charged until active
    alice.advance(61)
    n = alice.number(n["id"])
    assert n["status"] == "active"
    [line] = charges(alice, cycles[0])
    assert line["number_id"] == n["id"] and line["phone_number"] == n["phone_number"]
    assert line["cycle"] == cycles[0] and line["amount"] == n["monthly_price"]
    assert line["charged_at"] == n["activated_at"]  # falls due at the activation instant
    assert total(alice, cycles[0]) == price(n)
    alice.advance(3600)                              # more sweeps in the same cycle: nothing more
    assert len(charges(alice, cycles[0])) == 1

    advance_to(alice, ledger.cycle_start(cycles[1]) + HOUR)
    [line2] = charges(alice, cycles[1])
    assert line2["charged_at"] == ledger.cycle_start(cycles[1]).isoformat().replace("+00:00", "Z")
    assert total(alice, cycles[0]) == total(alice, cycles[1]) == price(n)
    s = alice.get("/v1/billing/summary").json()
    assert s["cycle"] == cycles[1]
    assert s["charges_to_date"] == [n["monthly_price"]]


def test_clock_jump_over_three_cycles_charges_each_cycle_once(alice) -> None:  # type: ignore[no-untyped-def]
    c1 = next_cycle_start(alice)
    advance_to(alice, c1 + 5 * DAY)
    a = activate(alice)                       # active since C1
    b = alice.buy()                           # still pending when the clock jumps
    cycles = cycles_from(c1, 4)
    jumped_to = advance_to(alice, ledger.cycle_start(cycles[3]) + 3 * DAY)  # one jump: C1 → C4
    b = alice.number(b["id"])
    assert b["status"] == "active"
    assert ts(b["activated_at"]) < jumped_to - 60 * DAY   # took effect when provisioning finished
    for c in cycles:
        assert sorted(x["number_id"] for x in charges(alice, c)) == sorted([a["id"], b["id"]]), c
        assert total(alice, c) == price(a) + price(b)
    [b_first] = [x for x in charges(alice, cycles[0]) if x["number_id"] == b["id"]]
    assert b_first["charged_at"] == b["activated_at"]
    assert total(alice, cycles[3]) * 4 == sum((total(alice, c) for c in cycles), Decimal(0))


def test_release_in_the_last_seconds_of_a_cycle_charges_nothing_more(alice) -> None:  # type: ignore[no-untyped-def]
    c1 = next_cycle_start(alice)
    advance_to(alice, c1 + 10 * DAY)
    n = activate(alice)
    cycles = cycles_from(c1, 3)
    c2 = ledger.cycle_start(cycles[1])
    advance_to(alice, c2 - dt.timedelta(seconds=15))
    released = release(alice, n["id"])
    assert ts(released["release"]["released_at"]) < c2
    advance_to(alice, ledger.cycle_start(cycles[2]) + DAY)
    assert charged_cycles(alice, n["id"], cycles) == [cycles[0]]
    assert [total(alice, c) for c in cycles] == [price(n), 0, 0]


def test_active_mid_month_to_two_months_later_then_released(alice) -> None:  # type: ignore[no-untyped-def]
    """Active Jan 15 to Mar 3, then released: charged Jan, Feb, Mar."""
    c1 = next_cycle_start(alice)
    advance_to(alice, c1 + 14 * DAY)
    n = activate(alice)
    cycles = cycles_from(c1, 5)
    advance_to(alice, ledger.cycle_start(cycles[2]) + 2 * DAY)
    release(alice, n["id"])
    advance_to(alice, ledger.cycle_start(cycles[4]) + DAY)
    assert charged_cycles(alice, n["id"], cycles) == cycles[:3]
    assert sum((total(alice, c) for c in cycles), Decimal(0)) == 3 * price(n)


def test_reactivation_in_the_same_cycle_charges_nothing_more(alice) -> None:  # type: ignore[no-untyped-def]
    c1 = next_cycle_start(alice)
    advance_to(alice, c1 + 2 * DAY)
    n = activate(alice)
    release(alice, n["id"])
    alice.advance(25 * 3600)                  # past the 24 h cooldown, same cycle
    assert reactivate(alice, n["id"])["status"] == "active"
    alice.advance(60)
    cycles = cycles_from(c1, 2)
    assert len(charges(alice, cycles[0])) == 1
    assert total(alice, cycles[0]) == price(n)
    advance_to(alice, ledger.cycle_start(cycles[1]) + HOUR)
    assert charged_cycles(alice, n["id"], cycles) == cycles


def test_reactivation_in_the_next_cycle_charges_that_cycle(alice) -> None:  # type: ignore[no-untyped-def]
    c1 = next_cycle_start(alice)
    advance_to(alice, c1 + 5 * DAY)
    n = activate(alice)
    cycles = cycles_from(c1, 3)
    c2 = ledger.cycle_start(cycles[1])
    advance_to(alice, c2 - 2 * DAY)
    release(alice, n["id"])
    advance_to(alice, c2 + 2 * DAY)
    assert charged_cycles(alice, n["id"], cycles) == [cycles[0]]   # released all of C2 so far
    reactivate(alice, n["id"])
    alice.advance(1)
    assert charged_cycles(alice, n["id"], cycles) == cycles[:2]
    advance_to(alice, ledger.cycle_start(cycles[2]) + HOUR)
    assert charged_cycles(alice, n["id"], cycles) == cycles
    assert [total(alice, c) for c in cycles] == [price(n)] * 3


def test_released_then_reactivated_two_months_later_skips_the_month_between(alice) -> None:  # type: ignore[no-untyped-def]
    """Released Jan 20, reactivated Mar 5: charged Jan and Mar, not Feb."""
    c1 = next_cycle_start(alice)
    advance_to(alice, c1 + 14 * DAY)
    n = activate(alice)
    advance_to(alice, c1 + 19 * DAY)
    release(alice, n["id"])
    cycles = cycles_from(c1, 3)
    advance_to(alice, ledger.cycle_start(cycles[2]) + 4 * DAY)
    reactivate(alice, n["id"])
    alice.advance(1)
    assert charged_cycles(alice, n["id"], cycles) == [cycles[0], cycles[2]]
    assert [total(alice, c) for c in cycles] == [price(n), 0, price(n)]


def test_a_past_due_month_is_still_billed(app, alice) -> None:  # type: ignore[no-untyped-def]
    st = app.state.nd
    c1 = next_cycle_start(alice)
    advance_to(alice, c1 + 3 * DAY)
    n = activate(alice)
    cycles = cycles_from(c1, 3)
    alice.advance(86400)
    assert set_account_status(st, alice.account_id, "past_due") == 1
    assert alice.number(n["id"])["status"] == "inactive"
    advance_to(alice, ledger.cycle_start(cycles[1]) + 10 * DAY)   # inactive for all of C2 so far
    assert alice.number(n["id"])["status"] == "inactive"
    assert charged_cycles(alice, n["id"], cycles) == cycles[:2]
    assert set_account_status(st, alice.account_id, "good") == 1
    advance_to(alice, ledger.cycle_start(cycles[2]) + HOUR)
    assert charged_cycles(alice, n["id"], cycles) == cycles
    assert [total(alice, c) for c in cycles] == [price(n)] * 3


def test_two_workers_at_once_charge_exactly_once(app, alice) -> None:  # type: ignore[no-untyped-def]
    st = app.state.nd
    c1 = next_cycle_start(alice)
    advance_to(alice, c1 + 5 * DAY)
    numbers = [activate(alice) for _ in range(4)]
    cycles = cycles_from(c1, 4)
    # Forget the activation charges of half the numbers and move the clock without running the
    # worker: both workers then owe every number three or four cycles at the same moment.
    with st.db.session() as s:
        s.execute(Charge.__table__.delete().where(Charge.number_id.in_([n["id"] for n in numbers[:2]])))
    st.clock.advance((ledger.cycle_start(cycles[3]) + DAY - clock_now(alice)).total_seconds())
    now = st.clock.now()
    start = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            with st.db.session() as s:
                results.append(sweep_charges(s, st.settings, now))
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(results) == 4 * 2 + 3 * 2
    run_due(st.db, st.clock, st.settings)              # a third pass finds nothing owed
    with st.db.session(write=False) as s:
        rows = s.execute(select(Charge.number_id, Charge.cycle, func.count()).group_by(
            Charge.number_id, Charge.cycle)).all()
    assert len(rows) == 4 * len(numbers) and all(k == 1 for *_, k in rows)
    for c in cycles:
        assert total(alice, c) == sum((price(n) for n in numbers), Decimal(0))


def test_charges_page_and_export_and_tenancy(alice, bob) -> None:  # type: ignore[no-untyped-def]
    advance_to(alice, next_cycle_start(alice) + DAY)       # well inside one cycle
    numbers = [activate(alice, department=d) for d in ("sales", "sales", "support")]
    cycle = ledger.cycle_of(clock_now(alice))
    first = alice.get("/v1/billing/charges", params={"cycle": cycle, "limit": 2}).json()
    assert len(first["data"]) == 2 and first["next_cursor"]
    second = alice.get("/v1/billing/charges", params={"cycle": cycle, "limit": 2,
                                                      "cursor": first["next_cursor"]}).json()
    assert len(second["data"]) == 1 and second["next_cursor"] is None
    assert {x["number_id"] for x in first["data"] + second["data"]} == {n["id"] for n in numbers}
    expected = sum((price(n) for n in numbers), Decimal(0))
    assert first["total"] == second["total"] == [{"amount": f"{expected:.2f}", "currency": "USD"}]
    assert alice.get("/v1/billing/charges").json()["cycle"] == cycle   # default: the current cycle

    r = alice.get("/v1/billing/charges.csv", params={"cycle": cycle})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert f"charges-{cycle}.csv" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 3
    assert {(x["number_id"], x["department"], Decimal(x["amount"]), x["currency"]) for x in rows} == {
        (n["id"], n["department"], price(n), "USD") for n in numbers}

    s = alice.get("/v1/billing/summary").json()
    by = {d["department"]: d for d in s["by_department"]}
    assert by["sales"]["numbers"] == 2 and by["support"]["numbers"] == 1
    assert Decimal(by["sales"]["amount"]["amount"]) == price(numbers[0]) + price(numbers[1])

    # Bob's account sees none of it; roles below owner may not read billing.
    assert bob.get("/v1/billing/charges", params={"cycle": cycle}).json()["data"] == []
    assert bob.get("/v1/billing/charges.csv", params={"cycle": cycle}).text.count("\n") == 1
    for role in ("admin", "member", "viewer"):
        for path in ("/v1/billing/charges", "/v1/billing/summary", "/v1/billing/charges.csv"):
            r = alice.get(path, role=role)
            assert r.status_code == 403 and r.json()["code"] == "forbidden", (role, path)
    for bad in ("2026-13", "202601", "x"):
        r = alice.get("/v1/billing/charges", params={"cycle": bad})
        assert r.status_code == 422 and r.json()["code"] == "validation_error"


def test_projection_counts_held_numbers_only(app, alice) -> None:  # type: ignore[no-untyped-def]
    advance_to(alice, next_cycle_start(alice) + DAY)
    active = activate(alice)
    inactive = activate(alice)
    released = activate(alice)
    pending = alice.buy()
    r = alice.client.put(f"/v1/sandbox/numbers/{inactive['id']}/configuration", json={"broken": True},
                         headers=alice.h())
    assert r.status_code == 200 and r.json()["status"] == "inactive"
    release(alice, released["id"])
    s = alice.get("/v1/billing/summary").json()
    expected = sum((price(n) for n in (active, inactive, pending)), Decimal(0))
    assert s["projected_next_cycle"] == [{"amount": f"{expected:.2f}", "currency": "USD"}]
    assert s["projected_numbers"] == 3
    # This cycle: the three that were active at some moment, the released one included.
    to_date = sum((price(n) for n in (active, inactive, released)), Decimal(0))
    assert s["charges_to_date"] == [{"amount": f"{to_date:.2f}", "currency": "USD"}]


def test_released_before_the_worker_saw_the_new_cycle_still_owes_it(app, alice) -> None:  # type: ignore[no-untyped-def]
    """The clock crossed into a new cycle and the number was released before any sweep ran."""
    st = app.state.nd
    c1 = next_cycle_start(alice)
    advance_to(alice, c1 + 20 * DAY)
    n = activate(alice)
    keep = activate(alice)
    cycles = cycles_from(c1, 4)
    # Into the next cycle without running the worker, then released there.
    st.clock.advance((ledger.cycle_start(cycles[1]) + HOUR - clock_now(alice)).total_seconds())
    assert ledger.cycle_of(ts(release(alice, n["id"])["release"]["released_at"])) == cycles[1]
    assert charged_cycles(alice, n["id"], cycles) == [cycles[0]]
    advance_to(alice, ledger.cycle_start(cycles[3]) + DAY)
    assert charged_cycles(alice, n["id"], cycles) == cycles[:2]
    assert charged_cycles(alice, keep["id"], cycles) == cycles
    alice.advance(3600)                                # settled: later passes add nothing
    assert [total(alice, c) for c in cycles] == [price(n) + price(keep)] * 2 + [price(keep)] * 2
