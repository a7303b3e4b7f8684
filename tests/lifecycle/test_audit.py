"""Exactly one audit row per successful change, none for a refused one; the audit API."""

from __future__ import annotations

from sqlalchemy import select

from numberdesk.audit.models import AuditEvent
from numberdesk.maintenance.service import end_maintenance, start_maintenance
from tests.lifecycle.helpers import add_active_call, advance_to, end_calls, release, ts


def _events(app, account_id: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with app.state.nd.db.session(write=False) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.account_id == account_id)
                              .order_by(AuditEvent.at, AuditEvent.id)))


def test_one_row_per_mutation_none_per_refusal(app, alice, bob) -> None:  # type: ignore[no-untyped-def]
    for role in ("admin", "member", "viewer"):
        alice.h(role)
    agent = alice.agent()
    n = alice.buy(agent_id=agent["id"])
    st = app.state.nd
    seen = len(_events(app, alice.account_id))

    def step(response, expect_status: int, action: str | None) -> None:  # type: ignore[no-untyped-def]
        nonlocal seen
        assert response.status_code == expect_status, response.text
        rows = _events(app, alice.account_id)
        if action is None:
            assert len(rows) == seen, [r.action for r in rows[seen:]]
        else:
            assert [r.action for r in rows[seen:]] == [action]
            assert rows[-1].request_id == response.headers["x-request-id"]
            seen = len(rows)

    flow = alice.post("/v1/automations", {"name": "IVR", "kind": "call_flow", "number_ids": [n["id"]]})
    step(flow, 201, "automation.create")
    add_active_call(app, alice, n["id"])
    step(release(alice, n["id"]), 409, None)                              # blocked
    step(release(alice, n["id"], detach_dependencies=True), 409, None)    # still blocked: nothing detached
    step(release(alice, n["id"], role="member"), 403, None)
    step(alice.post(f"/v1/numbers/{n['id']}/release", {"reason": "other", "acknowledge": True}), 422, None)
    step(release(bob, n["id"]), 404, None)
    end_calls(app, n["id"])
    with st.db.session() as s:
        start_maintenance(s, st.clock.now(), 10)
    step(release(alice, n["id"], detach_dependencies=True), 503, None)
    with st.db.session() as s:
        end_maintenance(s, st.clock.now())
    r = release(alice, n["id"], detach_dependencies=True)
    step(r, 200, "number.release")
    step(release(alice, n["id"]), 409, None)                              # already released
    step(alice.post(f"/v1/numbers/{n['id']}/reactivate", {}), 409, None)  # cooldown
    step(alice.post(f"/v1/numbers/{n['id']}/reactivate", {}, role="viewer"), 403, None)
    advance_to(alice, ts(r.json()["release"]["cooldown_ends_at"]), 1)
    rows = _events(app, alice.account_id)
    # The clock moved past provisioning too: nothing was pending, so the worker wrote nothing.
    assert len(rows) == seen
    step(alice.post(f"/v1/numbers/{n['id']}/reactivate", {}), 200, "number.reactivate")
    step(alice.delete(f"/v1/automations/{flow.json()['id']}"), 204, "automation.delete")
    step(alice.delete("/v1/automations/auto_nope"), 404, None)

    release_row = next(e for e in _events(app, alice.account_id) if e.action == "number.release")
    assert release_row.before["status"] == "pending" and release_row.before["agent_id"] == agent["id"]
    assert release_row.after["status"] == "released" and release_row.after["agent_id"] is None
    assert release_row.after["previous_agent_id"] == agent["id"]
    assert release_row.actor.startswith("key_")


def test_worker_changes_are_audited_once(app, alice) -> None:  # type: ignore[no-untyped-def]
    n = alice.buy()
    alice.advance(61)
    alice.advance(61)
    rows = [e for e in _events(app, alice.account_id) if e.target_id == n["id"]]
    assert [(e.action, e.actor) for e in rows] == [("number.purchase", rows[0].actor), ("number.activate", "system")]


def test_audit_api(alice, bob) -> None:  # type: ignore[no-untyped-def]
    for role in ("member", "viewer", "admin"):
        alice.h(role)
    a, b = alice.buy(), alice.buy()
    release(alice, a["id"])
    bob.buy()
    for role in ("member", "viewer"):
        r = alice.get("/v1/audit-events", role=role)
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert alice.get("/v1/audit-events", role="admin").status_code == 200

    everything = alice.get("/v1/audit-events", params={"limit": 500}).json()
    assert everything["next_cursor"] is None
    actions = [e["action"] for e in everything["data"]]
    assert actions[0] == "number.release"            # newest first
    assert actions.count("number.purchase") == 2
    assert "account.create" in actions and all(e["at"].endswith("Z") for e in everything["data"])

    # Keyset pages: no duplicates, no gaps, same order.
    ids, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = alice.get("/v1/audit-events", params=params).json()
        ids += [e["id"] for e in page["data"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert ids == [e["id"] for e in everything["data"]]

    only_a = alice.get("/v1/audit-events", params={"target_id": a["id"]}).json()["data"]
    assert [e["action"] for e in only_a] == ["number.release", "number.purchase"]
    assert alice.get("/v1/audit-events", params={"target_id": b["id"]}).json()["data"][0]["target_id"] == b["id"]
    # Bob sees none of Alice's events, even by id.
    assert bob.get("/v1/audit-events", params={"target_id": a["id"]}).json()["data"] == []
    assert all(e["target_id"] != a["id"] for e in bob.get("/v1/audit-events").json()["data"])
    assert alice.get("/v1/audit-events", params={"cursor": "garbage"}).status_code == 422
