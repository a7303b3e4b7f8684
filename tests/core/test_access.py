"""Who may call what: every route is in the table, the role matrix, and tenancy (404 across accounts)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.core.helpers import assert_problem, counts
from tests.core.route_table import EXEMPT, NOT_OWNED, ROLES, TABLE, World, app_routes

WATCHED = ("phone_numbers", "agents", "audit_events", "api_keys", "automations", "pools", "calls")
ROUTED = sorted(k for k, r in TABLE.items() if r.role != EXEMPT)
ID_TAKING = sorted(k for k in ROUTED if set(re.findall(r"{(\w+)}", k[1])) - NOT_OWNED)


def payload(route, world: World) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The query and body of a valid call of the route, made from ``world``'s objects."""
    kwargs: dict[str, Any] = {}
    if route.query:
        kwargs["params"] = route.query(world)
    if route.body:
        kwargs["json"] = route.body(world)
    return kwargs


def build(template: str, route, world: World) -> tuple[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    """The path, query and body of a valid call of the route."""
    return template.format(**(route.path(world) if route.path else {})), payload(route, world)


def test_every_route_is_in_the_table(app):
    served = set(app_routes(app))
    missing = sorted(served - set(TABLE))
    assert not missing, (
        f"routes without an entry in tests/core/route_table.py (add the least role and a valid call): {missing}")
    stale = sorted(set(TABLE) - served)
    assert not stale, f"entries for routes the app does not serve: {stale}"
    webhooks = {k for k in served if k[1].startswith("/webhooks/")}
    assert webhooks and all(TABLE[k].role == EXEMPT for k in webhooks)
    assert all(TABLE[k].role in ROLES for k in served if k[1].startswith("/v1"))


def test_the_table_matches_the_permission_table():
    """The roles the table expects are the ones auth/permissions.py grants."""
    from numberdesk.auth.permissions import PERMISSIONS

    def least(permission: str) -> str:
        return next(r for r in ROLES if r in {x.value for x in PERMISSIONS[permission]})

    assert least("read") == "viewer"
    assert least("numbers.assign") == least("numbers.edit") == "member"
    assert least("numbers.buy") == least("numbers.release") == least("numbers.reactivate") == "admin"
    assert least("agents.write") == "admin"
    assert least("keys.manage") == least("billing.read") == least("sandbox.control") == "owner"


@pytest.mark.parametrize("key", ROUTED, ids=[f"{m} {p}" for m, p in ROUTED])
def test_role_matrix(alice, db_url, key):
    method, template = key
    route = TABLE[key]
    world = World(alice)
    allowed = ROLES[ROLES.index(route.role):]
    headers = {role: alice.h(role) for role in ROLES}  # the keys exist before anything is counted
    for role in ROLES:
        path, kwargs = build(template, route, world)
        before = counts(db_url, WATCHED)
        r = alice.client.request(method, path, headers=headers[role], **kwargs)
        if role in allowed:
            assert r.status_code == route.ok, (role, r.status_code, r.text[:500])
        else:
            assert_problem(r, 403, "forbidden")
            assert counts(db_url, WATCHED) == before, f"{role} was refused but something was written"


@pytest.mark.parametrize("key", ID_TAKING, ids=[f"{m} {p}" for m, p in ID_TAKING])
def test_another_accounts_objects_do_not_exist(alice, bob, db_url, key):
    method, template = key
    route = TABLE[key]
    alices, bobs = World(alice), World(bob)
    params = route.path(alices)
    path = template.format(**params)
    # Bob's call is valid in every other way: his own objects in the body.
    kwargs = {**payload(route, bobs), "headers": bob.headers}
    before = counts(db_url, WATCHED)
    r = bob.client.request(method, path, **kwargs)
    assert_problem(r, 404, "not_found")
    assert counts(db_url, WATCHED) == before
    # The same call with an id that exists nowhere gets the same answer.
    fake = {k: (v[:4] + "0" * (len(v) - 4) if k != "e164" else "+14155550000") for k, v in params.items()}
    r2 = bob.client.request(method, template.format(**fake), **kwargs)
    assert (r2.status_code, r2.json()["code"]) == (404, "not_found")
    # And Alice still can (the object is there, untouched).
    if method == "GET":
        assert alice.get(path).status_code == 200


def _same(a: httpx.Response, b: httpx.Response) -> None:
    assert a.status_code == b.status_code, (a.text, b.text)
    if a.headers.get("content-type", "").startswith("application/") and "json" in a.headers["content-type"]:
        ja, jb = a.json(), b.json()
        if isinstance(ja, dict) and "code" in ja:
            assert ja["code"] == jb["code"]
        elif isinstance(ja, dict) and "data" in ja:
            assert ja["data"] == jb["data"] == []


def test_ids_of_another_account_in_bodies_and_filters(alice, bob, db_url):
    """Alice's ids given to Bob's calls behave exactly like ids that do not exist."""
    aw, bw = World(alice), World(bob)
    n, agent, pool = aw.number, aw.agent, aw.pool
    alice.post("/v1/calls", {"calls": [aw.call_record()]})
    mine = bw.number
    fake_n, fake_a, fake_p = "num_" + "0" * 22, "agt_" + "0" * 22, "pool_" + "0" * 21
    before = counts(db_url, WATCHED)
    probes = [
        ("POST", f"/v1/numbers/{mine['id']}/assign", {"agent_id": agent["id"]}, {"agent_id": fake_a}),
        ("POST", f"/v1/numbers/{mine['id']}/assign", {"pool_id": pool["id"]}, {"pool_id": fake_p}),
        ("POST", "/v1/numbers", {"phone_number": bw.free_number(), "agent_id": agent["id"]},
         {"phone_number": bw.free_number(), "agent_id": fake_a}),
        ("POST", "/v1/automations", {"name": "x", "kind": "automation", "number_ids": [n["id"]]},
         {"name": "x", "kind": "automation", "number_ids": [fake_n]}),
        ("POST", "/v1/pools", {"name": "p", "agent_id": agent["id"]}, {"name": "p", "agent_id": fake_a}),
        ("POST", "/v1/calls", {"calls": [{**bw.call_record(), "number": n["phone_number"], "to": n["phone_number"]}]},
         {"calls": [{**bw.call_record(), "number": "+14155550000", "to": "+14155550000"}]}),
    ]
    for method, path, theirs, nowhere in probes:
        _same(bob.client.request(method, path, json=theirs, headers=bob.headers),
              bob.client.request(method, path, json=nowhere, headers=bob.headers))
    assert counts(db_url, WATCHED) == before
    # Bulk: Alice's number is "not found" for Bob, result by result.
    r = bob.post("/v1/numbers/bulk", {"action": "tag", "number_ids": [n["id"], mine["id"]], "tags": ["x"]})
    assert r.status_code == 200
    results = {x["number_id"]: x for x in r.json()["results"]}
    assert results[n["id"]]["ok"] is False and results[n["id"]]["code"] == "not_found"
    assert results[mine["id"]]["ok"] is True
    assert alice.number(n["id"])["tags"] == []
    # Filters by Alice's ids list nothing of hers.
    for path, params in (("/v1/numbers", {"agent_id": agent["id"]}), ("/v1/numbers", {"pool_id": pool["id"]}),
                         ("/v1/calls", {"number_id": n["id"]}), ("/v1/calls", {"agent_id": agent["id"]}),
                         ("/v1/automations", {"number_id": n["id"]}), ("/v1/active-calls", {"number_id": n["id"]}),
                         ("/v1/analytics", {"number_id": n["id"]}), ("/v1/audit-events", {"target_id": n["id"]})):
        theirs = bob.get(path, params=params)
        nowhere = bob.get(path, params={k: v[:4] + "0" * (len(v) - 4) for k, v in params.items()})
        _same(theirs, nowhere)
        assert n["phone_number"] not in theirs.text  # nothing of hers comes back
    # Bob's lists never show Alice's objects.
    for path in ("/v1/numbers", "/v1/agents", "/v1/pools", "/v1/automations", "/v1/calls", "/v1/api-keys",
                 "/v1/audit-events", "/v1/inventory-audit", "/v1/billing/charges"):
        r = bob.get(path)
        assert r.status_code == 200, (path, r.text)
        for secret in (n["id"], n["phone_number"], agent["id"], pool["id"], alice.account_id):
            assert secret not in r.text, (path, secret)


def test_bulk_checks_the_role_of_its_action(alice, db_url):
    n = alice.buy()
    alice.h("member"), alice.h("viewer")
    before = counts(db_url, WATCHED)
    r = alice.post("/v1/numbers/bulk", {"action": "release", "number_ids": [n["id"]], "reason": "replaced",
                                        "acknowledge": True}, role="member")
    assert_problem(r, 403, "forbidden")
    r = alice.post("/v1/numbers/bulk", {"action": "tag", "number_ids": [n["id"]], "tags": ["x"]}, role="viewer")
    assert_problem(r, 403, "forbidden")
    assert counts(db_url, WATCHED) == before
    r = alice.post("/v1/numbers/bulk", {"action": "tag", "number_ids": [n["id"]], "tags": ["x"]}, role="member")
    assert r.status_code == 200 and r.json()["succeeded"] == 1


EXEMPTS = sorted(k for k, r in TABLE.items() if r.role == EXEMPT)


@pytest.mark.parametrize("key", EXEMPTS, ids=[f"{m} {p}" for m, p in EXEMPTS])
def test_webhooks_need_the_carriers_signature_not_a_role(client, alice, db_url, key):
    """Carrier webhooks take no API key; unsigned (or key-only) requests are refused and change nothing."""
    n = alice.buy()
    method, path = key
    before = counts(db_url, WATCHED)
    form = {"To": n["phone_number"], "From": "+14155550101", "CallSid": "CA" + "0" * 32, "CallStatus": "ringing"}
    for headers in ({}, alice.headers):
        r = client.request(method, path, data=form, headers=headers)
        assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
        assert n["phone_number"] not in r.text
    assert counts(db_url, WATCHED) == before
