"""The sandbox clock: read it, move it (due work runs before the answer), owner only, sandbox only."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.core.helpers import assert_problem, counts


def parse(t: str) -> dt.datetime:
    assert t.endswith("Z"), t
    return dt.datetime.fromisoformat(t.replace("Z", "+00:00"))


def test_clock_reads_and_moves_forward(alice):
    r = alice.get("/v1/sandbox/clock")
    assert r.status_code == 200
    before = parse(r.json()["now"])
    assert abs((before - dt.datetime.now(dt.UTC)).total_seconds()) < 60
    moved = alice.advance(3 * 86400)
    after = parse(moved["now"])
    assert dt.timedelta(days=3) <= after - before < dt.timedelta(days=3, minutes=1)
    assert parse(alice.get("/v1/sandbox/clock").json()["now"]) >= after


def test_advance_runs_provisioning_before_it_answers(alice, db_url):
    n = alice.buy()
    assert n["status"] == "pending" and n["activated_at"] is None
    alice.advance(30)
    assert alice.number(n["id"])["status"] == "pending"  # 60 s of provisioning: not yet
    purchased = parse(n["purchased_at"])
    alice.advance(31)
    after = alice.number(n["id"])
    assert after["status"] == "active"
    # Active from the moment the carrier finished, to the second, not when it was noticed.
    assert parse(after["activated_at"]) - purchased == dt.timedelta(seconds=60)
    history = alice.get(f"/v1/numbers/{n['id']}/history").json()["data"]
    assert [(h["from"], h["to"]) for h in history] == [(None, "pending"), ("pending", "active")]
    # A jump of days still dates the activation at the end of provisioning.
    m = alice.buy()
    alice.advance(5 * 86400)
    assert parse(alice.number(m["id"])["activated_at"]) - parse(m["purchased_at"]) == dt.timedelta(seconds=60)


@pytest.mark.parametrize("role", ["viewer", "member", "admin"])
def test_only_the_owner_moves_the_clock(alice, db_url, role):
    before = alice.get("/v1/sandbox/clock").json()["now"]
    assert_problem(alice.get("/v1/sandbox/clock", role=role), 403, "forbidden")
    rows = counts(db_url)
    assert_problem(alice.post("/v1/sandbox/clock/advance", {"seconds": 86400}, role=role), 403, "forbidden")
    assert counts(db_url) == rows
    assert parse(alice.get("/v1/sandbox/clock").json()["now"]) - parse(before) < dt.timedelta(hours=1)


@pytest.mark.parametrize("body", [{}, {"seconds": 0}, {"seconds": -5}, {"seconds": "soon"}, {"seconds": 1.5},
                                  {"seconds": 10**12}, {"seconds": 60, "extra": 1}, [60]])
def test_bad_advance_bodies(alice, body):
    before = alice.get("/v1/sandbox/clock").json()["now"]
    assert_problem(alice.post("/v1/sandbox/clock/advance", body), 422, "validation_error")
    assert parse(alice.get("/v1/sandbox/clock").json()["now"]) - parse(before) < dt.timedelta(hours=1)


@pytest.mark.parametrize("settings_overrides", [{"provider": "twilio", "twilio_auth_token": "real-token"}])
def test_no_sandbox_routes_with_a_real_carrier(alice, settings_overrides):
    for role in ("owner", "viewer"):
        assert_problem(alice.get("/v1/sandbox/clock", role=role), 404, "not_found")
        assert_problem(alice.post("/v1/sandbox/clock/advance", {"seconds": 60}, role=role), 404, "not_found")
        assert_problem(alice.client.put("/v1/sandbox/switches/reject_orders", json={"enabled": True},
                                        headers=alice.h(role)), 404, "not_found")
        assert_problem(alice.client.put("/v1/sandbox/numbers/num_x/configuration", json={"broken": True},
                                        headers=alice.h(role)), 404, "not_found")
    # The rest of the API is there.
    assert alice.get("/v1/account").status_code == 200
