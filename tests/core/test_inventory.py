"""The account's inventory: filters, sorting, keyset cursors, editing, assigning; agents."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from numberdesk.numbers import lifecycle
from tests.core.helpers import assert_problem, counts, query


def page_all(persona, limit: int = 50, between=None, **params: Any) -> list[dict[str, Any]]:
    """Every row of ``GET /v1/numbers`` following cursors (``between()`` runs between pages)."""
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        r = persona.get("/v1/numbers", params={**params, "limit": limit, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["data"]) <= limit
        rows += body["data"]
        cursor = body["next_cursor"]
        if not cursor:
            return rows
        assert len(body["data"]) == limit
        if between:
            between()


def ids(rows: list[dict[str, Any]]) -> list[str]:
    return [r["id"] for r in rows]


@pytest.fixture
def stocked(alice, bob):
    """Alice's inventory: nine numbers of every kind, some active, assigned, tagged, in departments."""
    ava = alice.agent("Ava")
    max_ = alice.agent("Max", destination="+14155550100", kind="team_member")
    n = {}
    n["sales1"] = alice.buy(search={"area_code": "415", "type": "local"}, friendly_name="Sales one",
                            department="sales", tags=["East", "vip"], agent_id=ava["id"])
    n["sales2"] = alice.buy(search={"area_code": "310", "type": "local"}, friendly_name="sales two",
                            department="sales", tags=["west"])
    n["support"] = alice.buy(search={"country": "US", "type": "toll_free"}, friendly_name="Support line",
                             department="support", agent_id=max_["id"])
    n["mobile"] = alice.buy(search={"country": "US", "type": "mobile"}, friendly_name="Field phone",
                            tags=["vip"])
    n["gb"] = alice.buy(search={"country": "GB", "type": "local"}, friendly_name="London office",
                        department="sales")
    alice.advance(120)  # all five are provisioned now
    n["late1"] = alice.buy(search={"country": "CA"}, friendly_name="Toronto desk")
    n["late2"] = alice.buy(search={"country": "US", "type": "local"}, friendly_name="Zeta")
    bob.buy(search={"area_code": "415"}, friendly_name="Sales one")  # Bob's never show up
    return {"alice": alice, "agents": {"ava": ava, "max": max_}, "n": n}


def test_filters(stocked):
    alice, n, agents = stocked["alice"], stocked["n"], stocked["agents"]

    def listed(**params: Any) -> set[str]:
        return set(ids(page_all(alice, **params)))

    every = {v["id"] for v in n.values()}
    assert listed() == every
    assert listed(status="active") == {n[k]["id"] for k in ("sales1", "sales2", "support", "mobile", "gb")}
    assert listed(status="pending") == {n["late1"]["id"], n["late2"]["id"]}
    assert listed(status="released") == set() and listed(status="inactive") == set()
    assert listed(type="toll_free") == {n["support"]["id"]}
    assert listed(type="mobile") == {n["mobile"]["id"]}
    assert listed(agent_id=agents["ava"]["id"]) == {n["sales1"]["id"]}
    assert listed(agent_id=agents["max"]["id"]) == {n["support"]["id"]}
    assert listed(assigned="true") == {n["sales1"]["id"], n["support"]["id"]}
    assert listed(assigned="false") == every - {n["sales1"]["id"], n["support"]["id"]}
    assert listed(tag="vip") == {n["sales1"]["id"], n["mobile"]["id"]}
    assert listed(tag="EAST") == {n["sales1"]["id"]}  # tags are case-insensitive
    assert listed(department="sales") == {n["sales1"]["id"], n["sales2"]["id"], n["gb"]["id"]}
    assert listed(department="sales", status="active", tag="west") == {n["sales2"]["id"]}
    assert listed(q="sales") == {n["sales1"]["id"], n["sales2"]["id"]}  # friendly name, any case
    assert listed(q="LONDON") == {n["gb"]["id"]}
    digits = n["support"]["phone_number"][-6:]
    assert n["support"]["id"] in listed(q=digits)  # digits match the number
    assert listed(q="no such thing") == set()
    assert listed(status="active", type="local", assigned="false") == {n["sales2"]["id"], n["gb"]["id"]}
    one = alice.number(n["sales1"]["id"])
    assert one["tags"] == ["east", "vip"] and one["department"] == "sales"
    assert one["assignment"] == {"type": "agent", "id": agents["ava"]["id"], "name": "Ava"}
    assert one["status"] == "active" and one["activated_at"] and one["provider"] == "sandbox"


SORT_KEYS = {
    "purchased_at": lambda r: r["purchased_at"],
    "phone_number": lambda r: r["phone_number"],
    "friendly_name": lambda r: r["friendly_name"],
    "monthly_price": lambda r: int(r["monthly_price"]["amount"].replace(".", "")),
    "status": lambda r: r["status"],
}


@pytest.mark.parametrize("key", list(SORT_KEYS))
@pytest.mark.parametrize("desc", [False, True])
def test_sorting_in_each_direction_with_small_pages(stocked, key, desc):
    alice = stocked["alice"]
    sort = ("-" if desc else "") + key
    rows = page_all(alice, limit=2, sort=sort)
    assert len(rows) == 7 and len(set(ids(rows))) == 7
    values = [SORT_KEYS[key](r) for r in rows]
    assert values == sorted(values, reverse=desc)
    # Ties are broken by id in the same direction, so the order is total.
    pairs = [(SORT_KEYS[key](r), r["id"]) for r in rows]
    assert pairs == sorted(pairs, reverse=desc)
    # A single page agrees with the walk.
    assert ids(page_all(alice, limit=500, sort=sort)) == ids(rows)


def test_default_sort_is_newest_first(stocked):
    rows = page_all(stocked["alice"], limit=3)
    assert [r["purchased_at"] for r in rows] == sorted((r["purchased_at"] for r in rows), reverse=True)


@pytest.mark.parametrize("sort", ["phone_number", "-purchased_at", "friendly_name", "-monthly_price", "status"])
def test_cursors_walk_every_row_once_while_rows_are_added(alice, sort):
    original = {alice.buy(friendly_name=f"n{i:02d}")["id"] for i in range(12)}
    added: list[str] = []

    def buy_more() -> None:
        added.append(alice.buy(friendly_name=f"added {len(added)}")["id"])

    rows = page_all(alice, limit=3, between=buy_more, sort=sort)
    seen = ids(rows)
    assert len(seen) == len(set(seen)), "a row was returned twice"
    assert original <= set(seen), "a row that existed all along was skipped"
    assert set(seen) <= original | set(added)
    assert len(added) >= 3  # a purchase after every page but the last
    # The walk is in order even though rows were inserted between pages.
    values = [SORT_KEYS[sort.lstrip("-")](r) for r in rows]
    assert values == sorted(values, reverse=sort.startswith("-"))


def test_bad_list_parameters(alice):
    alice.buy()
    good = alice.get("/v1/numbers", params={"limit": 1, "sort": "phone_number"})
    next_cursor = good.json()["next_cursor"]
    assert next_cursor is None  # one number only
    datetime_cursor = base64.urlsafe_b64encode(json.dumps(["2026-01-01T00:00:00", "num_x"]).encode()).decode()
    bool_cursor = base64.urlsafe_b64encode(json.dumps([True, "num_x"]).encode()).decode()
    huge_cursor = base64.urlsafe_b64encode(json.dumps([10**30, "num_x"]).encode()).decode()
    for params in ({"status": "deleted"}, {"type": "landline"}, {"assigned": "maybe"}, {"sort": "colour"},
                   {"sort": "-"}, {"limit": 0}, {"limit": 501}, {"limit": 100000}, {"cursor": "not a cursor"},
                   {"cursor": "W10"}, {"cursor": datetime_cursor},
                   {"cursor": bool_cursor, "sort": "monthly_price"},
                   {"cursor": huge_cursor, "sort": "monthly_price"},
                   {"cursor": base64.urlsafe_b64encode(b'["a", 1]').decode(), "sort": "phone_number"},
                   {"q": "x" * 101}, {"tag": "x" * 65}):
        r = alice.get("/v1/numbers", params=params)
        assert_problem(r, 422, "validation_error")


def test_patch_renames_tags_and_moves_a_number(alice, db_url):
    n = alice.buy(friendly_name="Old name", tags=["a"])
    r = alice.patch(f"/v1/numbers/{n['id']}", {"friendly_name": "  New name  ", "tags": ["B", "c", "b"],
                                                "department": "support"}, role="member")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["friendly_name"] == "New name" and body["tags"] == ["b", "c"] and body["department"] == "support"
    assert alice.number(n["id"]) == body
    # Only the fields given change; null department clears it.
    r = alice.patch(f"/v1/numbers/{n['id']}", {"department": None}, role="member")
    assert r.json()["department"] is None and r.json()["friendly_name"] == "New name"
    assert r.json()["tags"] == ["b", "c"]
    r = alice.patch(f"/v1/numbers/{n['id']}", {"tags": []})
    assert r.json()["tags"] == []
    # Every change left an audit row with before and after.
    events = query(db_url, "SELECT action, target_id FROM audit_events WHERE action='number.update'")
    assert events == [("number.update", n["id"])] * 3
    before = counts(db_url)
    for bad in ({"friendly_name": ""}, {"friendly_name": "   "}, {"friendly_name": "x" * 201},
                {"tags": ["x" * 65]}, {"tags": [""]}, {"tags": [f"t{i}" for i in range(21)]},
                {"department": "d" * 101}, {"status": "active"}, {"phone_number": "+14155550100"}):
        assert_problem(alice.patch(f"/v1/numbers/{n['id']}", bad), 422, "validation_error")
    assert counts(db_url) == before
    assert_problem(alice.patch(f"/v1/numbers/{n['id']}", {"friendly_name": "x"}, role="viewer"), 403, "forbidden")


def test_assign_and_unassign(alice, bob, db_url):
    n = alice.buy()
    ava = alice.agent("Ava")
    bobs_agent = bob.agent("Bob's agent")
    r = alice.post(f"/v1/numbers/{n['id']}/assign", {"agent_id": ava["id"]}, role="member")
    assert r.status_code == 200, r.text
    assert r.json()["assignment"] == {"type": "agent", "id": ava["id"], "name": "Ava"}
    assert alice.get(f"/v1/agents/{ava['id']}").json()["number_count"] == 1
    # Another account's agent does not exist here; the assignment is unchanged.
    r = alice.post(f"/v1/numbers/{n['id']}/assign", {"agent_id": bobs_agent["id"]})
    assert_problem(r, 404, "not_found")
    assert alice.number(n["id"])["assignment"]["id"] == ava["id"]
    for bad in ({}, {"agent_id": ava["id"], "pool_id": "pool_x"}, {"agent_id": None}, {"agent": ava["id"]}):
        assert_problem(alice.post(f"/v1/numbers/{n['id']}/assign", bad), 422, "validation_error")
    assert_problem(alice.post(f"/v1/numbers/{n['id']}/assign", {"agent_id": "agt_nope"}), 404, "not_found")
    r = alice.post(f"/v1/numbers/{n['id']}/unassign", role="member")
    assert r.status_code == 200 and r.json()["assignment"] is None
    # Unassigning twice is fine (always possible).
    assert alice.post(f"/v1/numbers/{n['id']}/unassign").status_code == 200
    # Buying straight onto another account's agent is refused and buys nothing.
    before = counts(db_url)
    free = alice.search(limit=1)[0]["phone_number"]
    assert_problem(alice.post("/v1/numbers", {"phone_number": free, "agent_id": bobs_agent["id"]}), 404)
    assert counts(db_url) == before
    actions = [a for (a,) in query(db_url, "SELECT action FROM audit_events WHERE target_id=:i ORDER BY at, id",
                                   i=n["id"])]
    assert actions.count("number.assign") == 1 and actions.count("number.unassign") == 2


def test_released_numbers_cannot_be_assigned(alice):
    assert lifecycle.Status.released not in lifecycle.ASSIGNABLE
    assert lifecycle.ASSIGNABLE == {lifecycle.Status.pending, lifecycle.Status.active, lifecycle.Status.inactive}
    n = alice.buy()
    ava = alice.agent("Ava")
    alice.post(f"/v1/numbers/{n['id']}/assign", {"agent_id": ava["id"]})
    r = alice.post(f"/v1/numbers/{n['id']}/release", {"reason": "replaced", "acknowledge": True})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "released" and r.json()["assignment"] is None
    body = assert_problem(alice.post(f"/v1/numbers/{n['id']}/assign", {"agent_id": ava["id"]}), 409,
                          "invalid_state")
    assert "released" in body["detail"]
    assert alice.number(n["id"])["assignment"] is None
    # Unassigning is always possible, also after release.
    assert alice.post(f"/v1/numbers/{n['id']}/unassign").status_code == 200


# -- agents ------------------------------------------------------------------------
@pytest.mark.parametrize("destination, stored", [
    ("sip:ava@agents.example.com", "sip:ava@agents.example.com"),
    ("sips:desk@pbx.example.com:5061;transport=tls", "sips:desk@pbx.example.com:5061;transport=tls"),
    ("+14155550123", "+14155550123"),
    ("(415) 555-0123", "+14155550123"),
    ("+44 20 7946 0018", "+442079460018"),
    ("wss://stream.example.com/agents/ava", "wss://stream.example.com/agents/ava"),
])
def test_agent_destinations_accepted(alice, destination, stored):
    r = alice.post("/v1/agents", {"name": "Ava", "kind": "ai_agent", "destination": destination})
    assert r.status_code == 201, r.text
    assert r.json()["destination"] == stored


@pytest.mark.parametrize("destination", [
    "http://agents.example.com/ava", "https://agents.example.com/ava", "ws://stream.example.com/ava",
    "ftp://x", "sip:", "sip:has space@example.com", "wss://", "12", "+1 555 0000", "call me", "",
    "x" * 501, "ava@example.com",
])
def test_agent_destinations_rejected(alice, db_url, destination):
    before = counts(db_url)
    r = alice.post("/v1/agents", {"name": "Ava", "kind": "ai_agent", "destination": destination})
    body = assert_problem(r, 422, "validation_error")
    assert "destination" in body["detail"]
    assert counts(db_url) == before


def test_agents_crud(alice, bob, db_url):
    a = alice.agent("Ava")
    assert a["id"].startswith("agt_") and a["number_count"] == 0 and a["kind"] == "ai_agent"
    assert alice.get(f"/v1/agents/{a['id']}", role="viewer").json() == a
    r = alice.patch(f"/v1/agents/{a['id']}", {"name": "Ava 2", "destination": "wss://s.example.com/x"},
                    role="admin")
    assert r.status_code == 200 and r.json()["name"] == "Ava 2"
    assert r.json()["destination"] == "wss://s.example.com/x" and r.json()["kind"] == "ai_agent"
    assert_problem(alice.patch(f"/v1/agents/{a['id']}", {"destination": "http://x.example.com"}), 422)
    assert_problem(alice.patch(f"/v1/agents/{a['id']}", {"kind": "robot"}), 422)
    assert_problem(alice.patch(f"/v1/agents/{a['id']}", {"name": "x"}, role="member"), 403, "forbidden")
    names = [f"Agent {i:02d}" for i in range(7)]
    for name in names:
        alice.agent(name)
    bob.agent("Bob's")
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        r = alice.get("/v1/agents", params={"limit": 3, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200
        seen += r.json()["data"]
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    assert [x["name"] for x in seen] == sorted([*names, "Ava 2"])
    assert alice.delete(f"/v1/agents/{a['id']}", role="admin").status_code == 204
    assert_problem(alice.get(f"/v1/agents/{a['id']}"), 404, "not_found")
    assert_problem(alice.delete(f"/v1/agents/{a['id']}"), 404, "not_found")
    actions = [x for (x,) in query(db_url, "SELECT action FROM audit_events WHERE target_id=:i", i=a["id"])]
    assert sorted(actions) == ["agent.create", "agent.delete", "agent.update"]


def test_deleting_an_agent_with_numbers_is_refused_with_the_list(alice):
    ava = alice.agent("Ava")
    first = alice.buy(agent_id=ava["id"])
    second = alice.buy()
    alice.post(f"/v1/numbers/{second['id']}/assign", {"agent_id": ava["id"]})
    body = assert_problem(alice.delete(f"/v1/agents/{ava['id']}"), 409, "invalid_state")
    assert sorted(body["numbers"]) == sorted([first["phone_number"], second["phone_number"]])
    assert first["phone_number"] in body["detail"] and second["phone_number"] in body["detail"]
    assert alice.get(f"/v1/agents/{ava['id']}").json()["number_count"] == 2
    for n in (first, second):
        alice.post(f"/v1/numbers/{n['id']}/unassign")
    assert alice.delete(f"/v1/agents/{ava['id']}").status_code == 204
