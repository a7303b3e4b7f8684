"""Call flows and automations that use numbers (the dependencies that block a release)."""

from __future__ import annotations

from tests.lifecycle.helpers import audit_count, release


def test_create_list_delete(app, alice) -> None:  # type: ignore[no-untyped-def]
    a, b = alice.buy(), alice.buy()
    alice.h("admin"), alice.h("viewer")  # creating the keys is audited too: do it first
    events = audit_count(app, alice.account_id)
    r = alice.post("/v1/automations", {"name": " Main IVR ", "kind": "call_flow",
                                       "number_ids": [a["id"], b["id"], a["id"]]})
    assert r.status_code == 201, r.text
    flow = r.json()
    assert flow["id"].startswith("auto_") and flow["name"] == "Main IVR" and flow["kind"] == "call_flow"
    assert sorted(flow["number_ids"]) == sorted([a["id"], b["id"]])
    r = alice.post("/v1/automations", {"name": "Nightly", "kind": "automation", "number_ids": [b["id"]]}, role="admin")
    assert r.status_code == 201, r.text
    assert audit_count(app, alice.account_id) == events + 2

    listed = alice.get("/v1/automations", role="viewer").json()
    assert [x["name"] for x in listed["data"]] == ["Nightly", "Main IVR"]   # newest first
    only_a = alice.get("/v1/automations", params={"number_id": a["id"]}).json()["data"]
    assert [x["name"] for x in only_a] == ["Main IVR"]
    page = alice.get("/v1/automations", params={"limit": 1}).json()
    assert [x["name"] for x in page["data"]] == ["Nightly"] and page["next_cursor"]
    page2 = alice.get("/v1/automations", params={"limit": 1, "cursor": page["next_cursor"]}).json()
    assert [x["name"] for x in page2["data"]] == ["Main IVR"]

    assert alice.delete(f"/v1/automations/{flow['id']}").status_code == 204
    assert [x["name"] for x in alice.get("/v1/automations").json()["data"]] == ["Nightly"]
    assert audit_count(app, alice.account_id) == events + 3
    # Without the call flow, only the automation still blocks b.
    r = release(alice, b["id"])
    assert r.status_code == 409
    assert [d["name"] for d in r.json()["blockers"][0]["dependencies"]] == ["Nightly"]
    assert release(alice, a["id"]).status_code == 200


def test_refusals(app, alice, bob) -> None:  # type: ignore[no-untyped-def]
    n = alice.buy()
    theirs = bob.buy()
    alice.h("member")
    events = audit_count(app, alice.account_id)
    r = alice.post("/v1/automations", {"name": "x", "kind": "call_flow", "number_ids": [n["id"]]}, role="member")
    assert r.status_code == 403
    r = alice.post("/v1/automations", {"name": "x", "kind": "call_flow", "number_ids": [theirs["id"]]})
    assert r.status_code == 404 and theirs["id"] in r.json()["detail"]
    r = alice.post("/v1/automations", {"name": "x", "kind": "webhook", "number_ids": []})
    assert r.status_code == 422
    r = alice.post("/v1/automations", {"name": "", "kind": "automation", "number_ids": []})
    assert r.status_code == 422
    assert release(alice, n["id"]).status_code == 200
    r = alice.post("/v1/automations", {"name": "x", "kind": "automation", "number_ids": [n["id"]]})
    assert r.status_code == 409 and r.json()["code"] == "invalid_state"
    assert audit_count(app, alice.account_id) == events + 1   # only the release
    mine = bob.post("/v1/automations", {"name": "Bob's", "kind": "automation", "number_ids": [theirs["id"]]})
    assert mine.status_code == 201
    assert alice.delete(f"/v1/automations/{mine.json()['id']}").status_code == 404
    assert alice.get("/v1/automations").json()["data"] == []
    assert bob.delete(f"/v1/automations/{mine.json()['id']}", role="member").status_code == 403
