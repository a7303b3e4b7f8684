"""Cooldown, reclaim window and reactivation, to the second on the sandbox clock."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from numberdesk.billing.service import set_account_status
from numberdesk.providers.sandbox.models import SandboxOrder
from tests.lifecycle.helpers import (
    active_number,
    advance_to,
    audit_count,
    offered,
    release,
    released_number,
    sandbox_now,
    ts,
)


def _reactivate(persona, number_id: str, role: str = "owner", **body):  # type: ignore[no-untyped-def]
    return persona.post(f"/v1/numbers/{number_id}/reactivate", body, role=role)


def _eligibility(persona, number_id: str):  # type: ignore[no-untyped-def]
    r = persona.get(f"/v1/numbers/{number_id}/reactivation")
    assert r.status_code == 200, r.text
    return r.json()


def _failing(e: dict) -> list[str]:  # type: ignore[type-arg]
    return [c["code"] for c in e["checks"] if not c["ok"]]


def test_cooldown_boundary_to_the_second(app, alice) -> None:  # type: ignore[no-untyped-def]
    agent = alice.agent()
    n = active_number(alice, agent_id=agent["id"])
    r = release(alice, n["id"])
    assert r.status_code == 200, r.text
    cooldown_end = ts(r.json()["release"]["cooldown_ends_at"])

    e = _eligibility(alice, n["id"])
    assert e["eligible"] is False
    assert _failing(e) == ["in_cooldown"]
    assert ts(e["cooldown_ends_at"]) == cooldown_end
    assert ts(e["reclaim_deadline"]) == ts(r.json()["release"]["reclaim_deadline"])
    assert len(e["checks"]) == 6 and all(c["detail"] for c in e["checks"])

    advance_to(alice, cooldown_end, -1)
    events = audit_count(app, alice.account_id)
    r = _reactivate(alice, n["id"])
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "in_cooldown"
    assert ts(r.json()["cooldown_ends_at"]) == cooldown_end
    assert alice.number(n["id"])["status"] == "released"
    assert audit_count(app, alice.account_id) == events

    advance_to(alice, cooldown_end, 1)
    e = _eligibility(alice, n["id"])
    assert e["eligible"] is True and _failing(e) == []
    r = _reactivate(alice, n["id"])
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] == "active" and out["release"] is None
    assert out["assignment"] == {"type": "agent", "id": agent["id"], "name": agent["name"]}
    assert audit_count(app, alice.account_id) == events + 1
    history = alice.get(f"/v1/numbers/{n['id']}/history").json()["data"]
    assert [(h["from"], h["to"], h["reason"]) for h in history][-2:] == [
        ("active", "released", "no_longer_needed"), ("released", "active", "reactivated")]
    # Back to a plain active number: the release's record is in its history, not on it.
    assert _failing(_eligibility(alice, n["id"])) == ["invalid_state"]
    r = _reactivate(alice, n["id"])
    assert r.status_code == 409 and r.json()["code"] == "invalid_state"


def test_reclaim_deadline_boundary_to_the_second(app, alice) -> None:  # type: ignore[no-untyped-def]
    n = released_number(alice)
    deadline = ts(n["release"]["reclaim_deadline"])
    advance_to(alice, deadline, -1)
    r = _reactivate(alice, n["id"])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "active"

    m = released_number(alice)
    deadline = ts(m["release"]["reclaim_deadline"])
    advance_to(alice, deadline, -1)
    assert _eligibility(alice, m["id"])["eligible"] is True
    advance_to(alice, deadline, 1)
    events = audit_count(app, alice.account_id)
    r = _reactivate(alice, m["id"])
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "reclaim_window_expired"
    assert audit_count(app, alice.account_id) == events
    e = _eligibility(alice, m["id"])
    assert "reclaim_window_expired" in _failing(e)
    # The worker returned it at the deadline itself, not when it noticed.
    out = alice.number(m["id"])
    assert out["status"] == "released" and out["returned_to_carrier"] is True
    history = alice.get(f"/v1/numbers/{m['id']}/history").json()["data"]
    assert history[-1]["reason"] == "returned_to_carrier"
    assert ts(history[-1]["at"]) == deadline
    assert [h["to"] for h in history] == ["pending", "active", "released", "released"]


def test_returned_record_stays_read_only(alice) -> None:  # type: ignore[no-untyped-def]
    agent = alice.agent()
    n = released_number(alice)
    advance_to(alice, ts(n["release"]["reclaim_deadline"]), 1)
    assert alice.number(n["id"])["returned_to_carrier"] is True
    r = alice.patch(f"/v1/numbers/{n['id']}", {"friendly_name": "renamed"})
    assert r.status_code == 409 and r.json()["code"] == "invalid_state"
    r = alice.post(f"/v1/numbers/{n['id']}/assign", {"agent_id": agent["id"]})
    assert r.status_code == 409
    r = release(alice, n["id"])
    assert r.status_code == 409 and r.json()["code"] == "invalid_state"
    ids = [x["id"] for x in alice.get("/v1/numbers", params={"status": "released"}).json()["data"]]
    assert n["id"] in ids
    assert len(alice.get(f"/v1/numbers/{n['id']}/history").json()["data"]) == 4


def test_another_account_never_learns_of_the_hold(alice, bob, settings) -> None:  # type: ignore[no-untyped-def]
    candidate = alice.search(limit=1)[0]["phone_number"]
    assert offered(bob, candidate)  # the search does find it while it is for sale
    n = active_number(alice, phone_number=candidate)
    assert not offered(bob, candidate)
    r = release(alice, n["id"])
    assert r.status_code == 200
    deadline = ts(r.json()["release"]["reclaim_deadline"])

    for resp in (bob.get(f"/v1/numbers/{n['id']}/reactivation"), _reactivate(bob, n["id"])):
        assert resp.status_code == 404, resp.text
        assert resp.json()["code"] == "not_found"
    assert not offered(bob, candidate)
    r = bob.post("/v1/numbers", {"phone_number": candidate})
    assert r.status_code == 409 and r.json()["code"] == "number_unavailable"

    # The window ends: the carrier ages it for sandbox_aging_days, still not for sale.
    advance_to(alice, deadline, 1)
    assert alice.number(n["id"])["returned_to_carrier"] is True
    assert not offered(bob, candidate)
    assert bob.post("/v1/numbers", {"phone_number": candidate}).status_code == 409
    aged = deadline + dt.timedelta(days=settings.sandbox_aging_days)
    advance_to(alice, aged, -1)
    assert not offered(bob, candidate)
    assert bob.post("/v1/numbers", {"phone_number": candidate}).status_code == 409

    advance_to(alice, aged, 1)
    assert offered(bob, candidate)
    bought = bob.buy(candidate)
    assert bought["status"] == "pending" and bought["id"] != n["id"]
    # Alice keeps her read-only record; Bob never sees it.
    assert alice.number(n["id"])["phone_number"] == candidate
    assert bob.get(f"/v1/numbers/{n['id']}").status_code == 404
    assert alice.get(f"/v1/numbers/{bought['id']}").status_code == 404


def _past_cooldown(alice, n: dict) -> None:  # type: ignore[no-untyped-def,type-arg]
    advance_to(alice, ts(n["release"]["cooldown_ends_at"]), 1)


def test_spam_reported_numbers_are_not_eligible(alice) -> None:  # type: ignore[no-untyped-def]
    n = released_number(alice, reason="spam_reported")
    _past_cooldown(alice, n)
    e = _eligibility(alice, n["id"])
    assert e["eligible"] is False
    failing = [(c["code"], c["reason"]) for c in e["checks"] if not c["ok"]]
    assert failing == [("not_eligible", "spam_reported")]
    r = _reactivate(alice, n["id"])
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "not_eligible" and r.json()["reason"] == "spam_reported"


def test_past_due_account_is_not_eligible(app, alice) -> None:  # type: ignore[no-untyped-def]
    n = released_number(alice)
    _past_cooldown(alice, n)
    set_account_status(app.state.nd, alice.account_id, "past_due")
    r = _reactivate(alice, n["id"])
    assert r.status_code == 409 and r.json()["code"] == "not_eligible"
    assert r.json()["reason"] == "past_due"
    set_account_status(app.state.nd, alice.account_id, "good")
    assert _reactivate(alice, n["id"]).status_code == 200


def test_number_the_carrier_no_longer_holds_is_not_eligible(app, alice) -> None:  # type: ignore[no-untyped-def]
    n = released_number(alice)
    _past_cooldown(alice, n)
    with app.state.nd.db.session() as s:
        s.execute(update(SandboxOrder).where(SandboxOrder.phone_number == n["phone_number"])
                  .values(status="returned"))
    e = _eligibility(alice, n["id"])
    assert [(c["code"], c["reason"]) for c in e["checks"] if not c["ok"]] == [("not_eligible", "carrier_released")]
    r = _reactivate(alice, n["id"])
    assert r.status_code == 409 and r.json()["reason"] == "carrier_released"


def test_restore_assignment_can_be_declined(alice) -> None:  # type: ignore[no-untyped-def]
    agent = alice.agent()
    n = active_number(alice, agent_id=agent["id"])
    n = release(alice, n["id"]).json()
    _past_cooldown(alice, n)
    r = _reactivate(alice, n["id"], restore_assignment=False)
    assert r.status_code == 200, r.text
    assert r.json()["assignment"] is None and r.json()["status"] == "active"


def test_deleted_agent_is_not_restored_and_the_audit_says_so(alice) -> None:  # type: ignore[no-untyped-def]
    agent = alice.agent()
    n = active_number(alice, agent_id=agent["id"])
    n = release(alice, n["id"]).json()
    assert alice.delete(f"/v1/agents/{agent['id']}").status_code == 204
    _past_cooldown(alice, n)
    r = _reactivate(alice, n["id"])
    assert r.status_code == 200, r.text
    assert r.json()["assignment"] is None
    ev = alice.get("/v1/audit-events", params={"target_id": n["id"], "limit": 1}).json()["data"][0]
    assert ev["action"] == "number.reactivate"
    assert ev["after"]["assignment_restored"] is None
    assert ev["after"]["assignment_not_restored"] == f"agent {agent['id']} was deleted"


def test_a_number_released_while_pending_comes_back_pending(alice) -> None:  # type: ignore[no-untyped-def]
    n = alice.buy()
    n = release(alice, n["id"]).json()
    _past_cooldown(alice, n)
    r = _reactivate(alice, n["id"], role="admin")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "pending"
    alice.advance(61)
    assert alice.number(n["id"])["status"] == "active"
    assert [h["to"] for h in alice.get(f"/v1/numbers/{n['id']}/history").json()["data"]] == [
        "pending", "released", "pending", "active"]


def test_only_admins_and_owners_reactivate(alice) -> None:  # type: ignore[no-untyped-def]
    n = released_number(alice)
    _past_cooldown(alice, n)
    for role in ("viewer", "member"):
        r = _reactivate(alice, n["id"], role=role)
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert _eligibility(alice, n["id"])["eligible"] is True   # reading is for everyone
    assert alice.get(f"/v1/numbers/{n['id']}/reactivation", role="viewer").status_code == 200
    r = alice.client.post(f"/v1/numbers/{n['id']}/reactivate", headers=alice.h("admin"))  # no body at all
    assert r.status_code == 200, r.text


def test_clock_reads_match_the_release_record(alice) -> None:  # type: ignore[no-untyped-def]
    before = sandbox_now(alice)
    n = released_number(alice)
    after = sandbox_now(alice)
    assert before <= ts(n["release"]["released_at"]) <= after
