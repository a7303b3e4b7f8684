"""Managing many numbers: bulk actions with per-number results, inventory audit, naming."""

from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import func, select

from numberdesk.calls.models import ActiveCall
from numberdesk.numbers.models import PhoneNumber


def _active_numbers(p, n: int) -> list[dict]:  # type: ignore[no-untyped-def]
    found = p.search(country="US", type="local", limit=n)
    numbers = [p.buy(x["phone_number"]) for x in found]
    p.advance(61)
    return numbers


def test_bulk_assign_reports_each_number_and_keeps_the_good_ones(alice, bob) -> None:  # type: ignore[no-untyped-def]
    mine = _active_numbers(alice, 3)
    theirs = bob.buy()
    agent = alice.agent()
    ids = [n["id"] for n in mine] + [theirs["id"]]
    r = alice.post("/v1/numbers/bulk", {"action": "assign", "number_ids": ids, "agent_id": agent["id"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["succeeded"], body["failed"]) == (3, 1)
    by_id = {x["number_id"]: x for x in body["results"]}
    assert by_id[theirs["id"]]["code"] == "not_found"   # another account's number is just unknown
    for n in mine:
        assert alice.number(n["id"])["assignment"]["id"] == agent["id"]
    assert bob.number(theirs["id"])["assignment"] is None


def test_bulk_release_one_blocked_never_loses_the_others(alice, app) -> None:  # type: ignore[no-untyped-def]
    numbers = _active_numbers(alice, 3)
    blocked = numbers[1]
    st = app.state.nd
    with st.db.session() as s:
        now = st.clock.now()
        s.add(ActiveCall(account_id=alice.account_id, number_id=blocked["id"], provider="sandbox",
                         call_sid="CA-bulk-1", status="in_progress", started_at=now, updated_at=now))
    r = alice.post("/v1/numbers/bulk", {"action": "release", "number_ids": [n["id"] for n in numbers],
                                        "reason": "cost_reduction", "acknowledge": True})
    assert r.status_code == 200, r.text
    results = {x["number_id"]: x for x in r.json()["results"]}
    assert results[blocked["id"]]["ok"] is False
    assert results[blocked["id"]]["code"] == "release_blocked"
    assert [b["code"] for b in results[blocked["id"]]["blockers"]] == ["active_calls"]
    statuses = {n["id"]: alice.number(n["id"])["status"] for n in numbers}
    assert statuses == {numbers[0]["id"]: "released", blocked["id"]: "active", numbers[2]["id"]: "released"}


def test_bulk_tag_and_untag(alice) -> None:  # type: ignore[no-untyped-def]
    numbers = _active_numbers(alice, 2)
    ids = [n["id"] for n in numbers]
    assert alice.post("/v1/numbers/bulk", {"action": "tag", "number_ids": ids, "tags": ["Sales", "west"]}).json()["succeeded"] == 2
    assert alice.number(ids[0])["tags"] == ["sales", "west"]
    assert alice.post("/v1/numbers/bulk", {"action": "untag", "number_ids": ids, "tags": ["west"]}).json()["succeeded"] == 2
    assert alice.number(ids[1])["tags"] == ["sales"]


def test_bulk_checks_role_and_input(alice) -> None:  # type: ignore[no-untyped-def]
    numbers = _active_numbers(alice, 1)
    ids = [numbers[0]["id"]]
    r = alice.post("/v1/numbers/bulk", {"action": "release", "number_ids": ids, "reason": "other",
                                        "reason_text": "x", "acknowledge": True}, role="member")
    # A role that may not do the action at all is refused for the whole request.
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"
    assert alice.number(ids[0])["status"] == "active"
    assert alice.post("/v1/numbers/bulk", {"action": "explode", "number_ids": ids}).status_code == 422
    assert alice.post("/v1/numbers/bulk", {"action": "tag", "number_ids": []}).status_code == 422
    assert alice.post("/v1/numbers/bulk", {"action": "tag", "number_ids": ids}).json()["code"] == "validation_error"
    r = alice.post("/v1/numbers/bulk", {"action": "tag", "number_ids": ids, "tags": ["a"]}, role="viewer")
    assert r.status_code == 403 and r.json()["code"] == "forbidden"


def test_inventory_audit_findings_and_csv(alice, app) -> None:  # type: ignore[no-untyped-def]
    agent = alice.agent()
    busy, idle, unassigned = _active_numbers(alice, 3)
    for n in (busy, idle):
        assert alice.post(f"/v1/numbers/{n['id']}/assign", {"agent_id": agent["id"]}).status_code == 200
    alice.advance(31 * 86400)
    # A call on `busy` within the idle period keeps it off the idle list.
    st = app.state.nd
    from numberdesk.calls.models import Call
    from numberdesk.kit.ids import new_id

    with st.db.session() as s:
        now = st.clock.now()
        s.add(Call(id=new_id("call"), account_id=alice.account_id, number_id=busy["id"], direction="inbound",
                   from_number="+12125550100", to_number=busy["phone_number"], status="completed",
                   started_at=now - dt.timedelta(days=2), duration_seconds=30, created_at=now))
    released = alice.buy()
    alice.advance(61)
    r = alice.post(f"/v1/numbers/{released['id']}/release", {"reason": "replaced", "acknowledge": True})
    assert r.status_code == 200, r.text
    alice.advance(9 * 86400)  # reclaim window (10 days) closes within 48 h
    assert alice.patch("/v1/account", {"naming_template": "{department}-{area_code}-{seq}"}).status_code == 200

    r = alice.get("/v1/inventory-audit", params={"idle_days": 30})
    assert r.status_code == 200, r.text
    body = r.json()
    findings = {row["number"]["id"]: set(row["findings"]) for row in body["data"]}
    assert "idle" not in findings.get(busy["id"], set())
    assert {"idle", "naming"} <= findings[idle["id"]]
    assert {"unassigned", "idle", "naming"} <= findings[unassigned["id"]]
    assert findings[released["id"]] == {"reclaim_closing"}
    assert body["counts"]["idle"] == 2
    price = alice.number(idle["id"])["monthly_price"]
    from decimal import Decimal
    assert body["idle_monthly_cost"] == [{"amount": f"{Decimal(price['amount']) * 2:.2f}", "currency": price["currency"]}]

    csv_text = alice.get("/v1/inventory-audit.csv").text
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert {r["phone_number"] for r in rows} == {n["phone_number"] for n in (busy, idle, unassigned, released)}


def test_naming_violations_follow_the_template(alice) -> None:  # type: ignore[no-untyped-def]
    assert alice.patch("/v1/account", {"naming_template": "{department}-{area_code}-{seq}"}).status_code == 200
    good = alice.buy(department="sales")     # named by the template
    assert good["friendly_name"].startswith("sales-")
    bad = alice.buy(friendly_name="Bob's line")
    r = alice.get("/v1/naming/violations")
    assert r.json()["template"] == "{department}-{area_code}-{seq}"
    assert [n["id"] for n in r.json()["data"]] == [bad["id"]]
    assert alice.patch("/v1/account", {"naming_template": "{nonsense}-x"}).status_code == 422


def test_other_account_sees_nothing(alice, bob, app) -> None:  # type: ignore[no-untyped-def]
    _active_numbers(alice, 2)
    assert bob.get("/v1/inventory-audit").json()["data"] == []
    st = app.state.nd
    with st.db.session() as s:
        assert s.scalar(select(func.count()).select_from(PhoneNumber)) == 2
