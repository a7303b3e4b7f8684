"""Outbound caller ID from a pool: local presence, round robin, sticky."""

from __future__ import annotations

from typing import Any

from numberdesk.pools.service import local_presence


def _pool_with(p, strategy: str, area_codes: list[str]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:  # type: ignore[no-untyped-def]
    r = p.post("/v1/pools", {"name": f"{strategy} pool", "strategy": strategy})
    assert r.status_code == 201, r.text
    pool = r.json()
    numbers = {}
    for ac in area_codes:
        found = p.search(area_code=ac, type="local", limit=1)
        assert found, f"the sandbox has no local number in {ac}"
        numbers[ac] = p.buy(found[0]["phone_number"])
    p.advance(61)
    for n in numbers.values():
        assert p.post(f"/v1/numbers/{n['id']}/assign", {"pool_id": pool["id"]}).status_code == 200
    return pool, numbers


def pick(p, pool_id: str, to: str, role: str = "member"):  # type: ignore[no-untyped-def]
    return p.post(f"/v1/pools/{pool_id}/caller-id", {"to": to}, role=role)


def test_local_presence_matches_area_code_then_region_then_nearest(alice) -> None:  # type: ignore[no-untyped-def]
    pool, nums = _pool_with(alice, "local_presence", ["415", "212", "416"])
    r = pick(alice, pool["id"], "(415) 555-0199")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["number"]["id"] == nums["415"]["id"] and body["to"] == "+14155550199"
    assert body["strategy"] == "local_presence" and "area code" in body["reason"]
    assert pick(alice, pool["id"], "+12125550123").json()["number"]["id"] == nums["212"]["id"]
    # 510 (Oakland, CA) has no pool number: the California number is the nearest.
    r = pick(alice, pool["id"], "+15105550123").json()
    assert r["number"]["id"] == nums["415"]["id"] and "state" in r["reason"]
    # 647 is Toronto too (ON): same province.
    assert pick(alice, pool["id"], "+16475550123").json()["number"]["id"] == nums["416"]["id"]


def test_round_robin_cycles_through_every_active_number(alice) -> None:  # type: ignore[no-untyped-def]
    pool, nums = _pool_with(alice, "round_robin", ["415", "212", "416"])
    shown = [pick(alice, pool["id"], "+13125550100").json()["number"]["id"] for _ in range(6)]
    assert sorted(shown[:3]) == sorted(n["id"] for n in nums.values())
    assert shown[3:] == shown[:3]
    # A released number leaves the rotation at once.
    gone = nums["212"]["id"]
    assert alice.post(f"/v1/numbers/{gone}/release", {"reason": "replaced", "acknowledge": True}).status_code == 200
    after = {pick(alice, pool["id"], "+13125550100").json()["number"]["id"] for _ in range(4)}
    assert after == {nums["415"]["id"], nums["416"]["id"]}


def test_sticky_shows_a_callee_the_same_number(alice) -> None:  # type: ignore[no-untyped-def]
    pool, _ = _pool_with(alice, "sticky", ["415", "212"])
    first = pick(alice, pool["id"], "+13125550111").json()["number"]["id"]
    assert [pick(alice, pool["id"], "+1 312 555 0111").json()["number"]["id"] for _ in range(3)] == [first] * 3
    # Its number leaves service: the callee gets a new one, kept from then on.
    assert alice.post(f"/v1/numbers/{first}/release", {"reason": "replaced", "acknowledge": True}).status_code == 200
    second = pick(alice, pool["id"], "+13125550111").json()
    assert second["number"]["id"] != first and "out of service" in second["reason"]
    assert pick(alice, pool["id"], "+13125550111").json()["number"]["id"] == second["number"]["id"]


def test_refusals(alice, bob) -> None:  # type: ignore[no-untyped-def]
    pool, _ = _pool_with(alice, "round_robin", ["415"])
    assert pick(alice, pool["id"], "+13125550100", role="viewer").status_code == 403
    assert pick(bob, pool["id"], "+13125550100").status_code == 404
    bad = pick(alice, pool["id"], "12")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "to"
    empty = alice.post("/v1/pools", {"name": "Empty", "strategy": "sticky"}).json()
    r = pick(alice, empty["id"], "+13125550100")
    assert r.status_code == 409 and r.json()["code"] == "invalid_state"


def test_local_presence_is_pure() -> None:
    class N:
        def __init__(self, e164: str, region: str | None, country: str = "US") -> None:
            self.phone_number, self.region, self.country = e164, region, country

    a, b = N("+12125550100", "NY"), N("+13055550100", "FL")
    assert local_presence([a, b], "+13055550199").number is b          # area code
    assert local_presence([a, b], "+17865550199").number is b          # Miami 786: same state
    assert local_presence([a, b], "+12135550199").number is a          # LA 213: nearest area code
