"""Releasing a number: the record it leaves, who may, and every blocker at once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from numberdesk.providers.sandbox.models import SandboxOrder
from tests.lifecycle.helpers import (
    RELEASE,
    active_number,
    add_active_call,
    audit_count,
    end_calls,
    release,
    ts,
)


def test_release_keeps_a_record_and_remembers_the_assignment(alice) -> None:  # type: ignore[no-untyped-def]
    agent = alice.agent()
    n = active_number(alice, agent_id=agent["id"])
    assert n["assignment"]["id"] == agent["id"]
    r = release(alice, n["id"], reason="replaced", notes="moved to the new IVR number")
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] == "released" and out["status_reason"] is None
    assert out["assignment"] is None
    rec = out["release"]
    assert rec["reason"] == "replaced" and rec["reason_text"] is None
    assert rec["notes"] == "moved to the new IVR number"
    assert rec["released_by"].startswith("key_")
    released_at = ts(rec["released_at"])
    assert ts(rec["cooldown_ends_at"]) - released_at == dt.timedelta(hours=24)
    assert ts(rec["reclaim_deadline"]) - released_at == dt.timedelta(days=10)
    # The agent no longer counts it; the number is not routed any more.
    assert alice.get(f"/v1/agents/{agent['id']}").status_code == 200
    assert alice.get("/v1/numbers", params={"agent_id": agent["id"]}).json()["data"] == []
    history = alice.get(f"/v1/numbers/{n['id']}/history").json()["data"]
    assert [(h["from"], h["to"], h["reason"]) for h in history] == [
        (None, "pending", "purchased"), ("pending", "active", "provisioned"),
        ("active", "released", "replaced")]
    assert ts(history[-1]["at"]) == released_at


def test_other_reason_keeps_its_text(alice) -> None:  # type: ignore[no-untyped-def]
    n = alice.buy()
    r = release(alice, n["id"], reason="other", reason_text="  moving carriers  ")
    assert r.status_code == 200, r.text
    assert r.json()["release"]["reason"] == "other"
    assert r.json()["release"]["reason_text"] == "moving carriers"


def test_releasing_a_pending_number_cancels_its_order(app, alice) -> None:  # type: ignore[no-untyped-def]
    n = alice.buy()
    assert n["status"] == "pending"
    r = release(alice, n["id"])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "released"
    with app.state.nd.db.session(write=False) as s:
        order = s.scalar(select(SandboxOrder).where(SandboxOrder.phone_number == n["phone_number"]))
        assert order is not None and order.status == "released"
    # Provisioning time passes: the cancelled order never turns the number active.
    alice.advance(600)
    assert alice.number(n["id"])["status"] == "released"
    assert [h["to"] for h in alice.get(f"/v1/numbers/{n['id']}/history").json()["data"]] == ["pending", "released"]


def test_every_blocker_is_listed_at_once(app, alice) -> None:  # type: ignore[no-untyped-def]
    n = active_number(alice)
    flow = alice.post("/v1/automations", {"name": "Main IVR", "kind": "call_flow", "number_ids": [n["id"]]})
    assert flow.status_code == 201, flow.text
    auto = alice.post("/v1/automations", {"name": "Nightly report", "kind": "automation", "number_ids": [n["id"]]})
    assert auto.status_code == 201, auto.text
    add_active_call(app, alice, n["id"])
    events = audit_count(app, alice.account_id)

    r = release(alice, n["id"])
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == "release_blocked"
    assert [b["code"] for b in body["blockers"]] == ["active_calls", "has_dependencies"]
    calls, deps = body["blockers"]
    assert calls["count"] == 1 and "in progress" in calls["detail"]
    assert {d["name"] for d in deps["dependencies"]} == {"Main IVR", "Nightly report"}
    assert "Main IVR" in deps["detail"] and "Nightly report" in deps["detail"]
    assert "Main IVR" in body["detail"] and "in progress" in body["detail"]

    # Detaching is asked for, but the call still blocks: refused, and nothing changed.
    r = release(alice, n["id"], detach_dependencies=True)
    assert r.status_code == 409, r.text
    assert [b["code"] for b in r.json()["blockers"]] == ["active_calls"]
    used = alice.get("/v1/automations", params={"number_id": n["id"]}).json()["data"]
    assert {a["name"] for a in used} == {"Main IVR", "Nightly report"}
    assert alice.number(n["id"])["status"] == "active"
    assert audit_count(app, alice.account_id) == events

    # The call ends: without the flag the automations still block.
    end_calls(app, n["id"])
    r = release(alice, n["id"])
    assert r.status_code == 409
    assert [b["code"] for b in r.json()["blockers"]] == ["has_dependencies"]

    r = release(alice, n["id"], detach_dependencies=True)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "released"
    assert alice.get("/v1/automations", params={"number_id": n["id"]}).json()["data"] == []
    remaining = {a["name"]: a["number_ids"] for a in alice.get("/v1/automations").json()["data"]}
    assert remaining == {"Main IVR": [], "Nightly report": []}
    assert audit_count(app, alice.account_id) == events + 1
    ev = alice.get("/v1/audit-events", params={"target_id": n["id"], "limit": 1}).json()["data"][0]
    assert ev["action"] == "number.release"
    assert {d["name"] for d in ev["after"]["detached"]} == {"Main IVR", "Nightly report"}


def test_only_admins_and_owners_release(alice) -> None:  # type: ignore[no-untyped-def]
    n = alice.buy()
    for role in ("viewer", "member"):
        r = release(alice, n["id"], role=role)
        assert r.status_code == 403, r.text
        assert r.json()["code"] == "forbidden"
    assert alice.number(n["id"])["status"] == "pending"
    r = release(alice, n["id"], role="admin")
    assert r.status_code == 200, r.text
    assert r.json()["release"]["released_by"].startswith("key_")


def test_incomplete_requests_are_422(app, alice) -> None:  # type: ignore[no-untyped-def]
    n = alice.buy()
    before = audit_count(app, alice.account_id)
    path = f"/v1/numbers/{n['id']}/release"
    cases = [
        ({"reason": "no_longer_needed"}, "acknowledge"),
        ({"reason": "no_longer_needed", "acknowledge": False}, "acknowledge"),
        ({"reason": "other", "acknowledge": True}, "reason_text"),
        ({"reason": "other", "reason_text": "  ", "acknowledge": True}, "reason_text"),
        ({"reason": "because", "acknowledge": True}, "reason"),
        ({"acknowledge": True}, "reason"),
        ({**RELEASE, "force": True}, "force"),
    ]
    for body, field in cases:
        r = alice.post(path, body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["code"] == "validation_error"
        assert field in [e["field"] for e in r.json()["errors"]], (body, r.json())
    assert alice.number(n["id"])["status"] == "pending"
    assert audit_count(app, alice.account_id) == before


def test_what_cannot_be_released(alice, bob) -> None:  # type: ignore[no-untyped-def]
    n = alice.buy()
    assert release(alice, n["id"]).status_code == 200
    r = release(alice, n["id"])
    assert r.status_code == 409 and r.json()["code"] == "invalid_state"
    other = alice.buy()
    r = release(bob, other["id"])
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert release(alice, "num_doesnotexist").status_code == 404
    assert alice.number(other["id"])["status"] == "pending"


def test_blockers_are_scoped_to_the_account(app, alice, bob) -> None:  # type: ignore[no-untyped-def]
    """release_blockers is the service the dashboard and diagnostics call."""
    from numberdesk.auth.context import Ctx
    from numberdesk.numbers import service
    from numberdesk.numbers.release import release_blockers

    n = active_number(alice)
    add_active_call(app, alice, n["id"], sid="CA42")
    alice.post("/v1/automations", {"name": "Router", "kind": "call_flow", "number_ids": [n["id"]]})
    st = app.state.nd
    with st.db.session(write=False) as s:
        ctx = Ctx(session=s, account_id=alice.account_id, actor="test", role="viewer", clock=st.clock,
                  settings=st.settings)
        number = service.get(ctx, n["id"])
        assert [b["code"] for b in release_blockers(ctx, number)] == ["active_calls", "has_dependencies"]
        assert [b["code"] for b in release_blockers(ctx, number, detach_dependencies=True)] == ["active_calls"]
