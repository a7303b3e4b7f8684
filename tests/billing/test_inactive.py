"""Inactive numbers: past due (billing) and carrier-reported configuration problems."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from numberdesk.billing.service import set_account_status
from numberdesk.providers.registry import get_carrier
from tests.conftest import settings_env

from .helpers import activate


def history(p: Any, number_id: str) -> list[dict[str, Any]]:
    r = p.get(f"/v1/numbers/{number_id}/history")
    assert r.status_code == 200, r.text
    return r.json()["data"]


def route(p: Any, e164: str) -> dict[str, Any]:
    r = p.get(f"/v1/routes/{e164}")
    assert r.status_code == 200, r.text
    return r.json()


def audit_actions(p: Any, number_id: str) -> list[str]:
    r = p.get("/v1/audit-events", params={"target_id": number_id, "limit": 500})
    assert r.status_code == 200, r.text
    return [e["action"] for e in reversed(r.json()["data"])]


def set_config(p: Any, number_id: str, broken: bool, role: str = "owner", **extra: Any) -> Any:
    return p.client.put(f"/v1/sandbox/numbers/{number_id}/configuration", json={"broken": broken, **extra},
                        headers=p.h(role))


def billing_status_cli(settings: Any, account_id: str, status: str) -> str:
    out = subprocess.run([sys.executable, "-m", "numberdesk", "accounts", "billing-status", account_id, status],
                         env=settings_env(settings), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr + out.stdout
    return out.stdout


def test_past_due_holds_numbers_inactive_until_paid(settings, alice) -> None:  # type: ignore[no-untyped-def]
    agent = alice.agent()
    n = activate(alice, agent_id=agent["id"])
    pending = alice.buy(agent_id=agent["id"])
    assert route(alice, n["phone_number"])["route"]["type"] == "agent"

    assert "1 number(s) changed status" in billing_status_cli(settings, alice.account_id, "past_due")
    got = alice.number(n["id"])
    assert (got["status"], got["status_reason"]) == ("inactive", "billing")
    assert alice.number(pending["id"])["status"] == "pending"     # nothing to stop yet
    r = route(alice, n["phone_number"])
    assert r["status"] == "inactive" and r["route"]["type"] == "not_in_service"
    last = history(alice, n["id"])[-1]
    assert (last["from"], last["to"], last["reason"], last["actor"]) == ("active", "inactive", "billing", "system")
    assert audit_actions(alice, n["id"])[-1] == "number.deactivate"

    # Provisioned while the account is past due: held inactive from the moment it turned active.
    alice.advance(61)
    p = alice.number(pending["id"])
    assert (p["status"], p["status_reason"]) == ("inactive", "billing")
    h = history(alice, pending["id"])
    assert [(x["from"], x["to"], x["reason"]) for x in h[-2:]] == [
        ("pending", "active", "provisioned"), ("active", "inactive", "billing")]
    assert h[-1]["at"] == h[-2]["at"] == p["activated_at"]
    assert route(alice, p["phone_number"])["route"]["type"] == "not_in_service"
    # Reactivating or anything else does not sneak it back while past due: another pass changes nothing.
    alice.advance(3600)
    assert alice.number(n["id"])["status"] == "inactive"

    assert "2 number(s) changed status" in billing_status_cli(settings, alice.account_id, "good")
    for num in (n, p):
        got = alice.number(num["id"])
        assert (got["status"], got["status_reason"]) == ("active", None)
        last = history(alice, num["id"])[-1]
        assert (last["from"], last["to"], last["reason"]) == ("inactive", "active", "billing_resolved")
        assert audit_actions(alice, num["id"])[-1] == "number.restore"
        r = route(alice, num["phone_number"])
        assert r["route"]["type"] == "agent" and r["route"]["agent_id"] == agent["id"]
    assert alice.get("/v1/account").json()["billing_status"] == "good"


def test_billing_status_is_per_account(app, alice, bob) -> None:  # type: ignore[no-untyped-def]
    a, b = activate(alice), activate(bob)
    assert set_account_status(app.state.nd, alice.account_id, "past_due") == 1
    assert alice.number(a["id"])["status"] == "inactive"
    assert bob.number(b["id"])["status"] == "active"
    # Marking past due twice changes nothing more and writes no second history row.
    assert set_account_status(app.state.nd, alice.account_id, "past_due") == 0
    assert [x["to"] for x in history(alice, a["id"])].count("inactive") == 1


def test_configuration_problem_holds_number_until_cleared(alice, bob) -> None:  # type: ignore[no-untyped-def]
    agent = alice.agent()
    n = activate(alice, agent_id=agent["id"])
    r = set_config(alice, n["id"], True)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["status_reason"]) == ("inactive", "configuration")
    assert route(alice, n["phone_number"])["route"]["type"] == "not_in_service"
    last = history(alice, n["id"])[-1]
    assert (last["from"], last["to"], last["reason"]) == ("active", "inactive", "configuration")
    assert audit_actions(alice, n["id"])[-2:] == ["sandbox.configuration", "number.deactivate"]
    alice.advance(3600)                                   # the worker agrees with the carrier
    assert alice.number(n["id"])["status_reason"] == "configuration"

    r = set_config(alice, n["id"], False)
    assert (r.json()["status"], r.json()["status_reason"]) == ("active", None)
    last = history(alice, n["id"])[-1]
    assert (last["from"], last["to"], last["reason"]) == ("inactive", "active", "configuration_resolved")
    assert route(alice, n["phone_number"])["route"]["type"] == "agent"

    # Owner only, sandbox only, the account's own numbers only, known fields only.
    assert set_config(alice, n["id"], True, role="admin").status_code == 403
    assert set_config(bob, n["id"], True).status_code == 404
    assert set_config(alice, n["id"], True, extra="x").status_code == 422
    assert alice.number(n["id"])["status"] == "active"


def test_configuration_sweep_follows_the_carrier(app, alice) -> None:  # type: ignore[no-untyped-def]
    st = app.state.nd
    n = activate(alice)
    carrier = get_carrier(st.settings)
    ref = _ref(st, n["id"])
    with st.db.session() as s:
        carrier.set_configuration_broken(s, ref, True)
    alice.advance(60)
    got = alice.number(n["id"])
    assert (got["status"], got["status_reason"]) == ("inactive", "configuration")
    with st.db.session() as s:
        carrier.set_configuration_broken(s, ref, False)
    alice.advance(60)
    got = alice.number(n["id"])
    assert (got["status"], got["status_reason"]) == ("active", None)
    assert [x["reason"] for x in history(alice, n["id"])][-2:] == ["configuration", "configuration_resolved"]


def _ref(st: Any, number_id: str) -> str:
    from numberdesk.numbers.models import PhoneNumber

    with st.db.session(write=False) as s:
        return s.get(PhoneNumber, number_id).provider_ref  # type: ignore[union-attr,return-value]


def test_both_causes_hold_until_both_are_resolved(app, alice) -> None:  # type: ignore[no-untyped-def]
    st = app.state.nd
    n = activate(alice)
    m = activate(alice)

    # configuration first, then billing: the reason shown turns to billing.
    set_config(alice, n["id"], True)
    assert set_account_status(st, alice.account_id, "past_due") == 1      # only m changed status
    got = alice.number(n["id"])
    assert (got["status"], got["status_reason"]) == ("inactive", "billing")
    set_config(alice, n["id"], False)
    got = alice.number(n["id"])
    assert (got["status"], got["status_reason"]) == ("inactive", "billing")   # still past due
    set_config(alice, m["id"], True)                                        # m: billing, then configuration
    assert alice.number(m["id"])["status_reason"] == "billing"
    assert set_account_status(st, alice.account_id, "good") == 1            # n comes back, m does not
    assert (alice.number(n["id"])["status"], alice.number(n["id"])["status_reason"]) == ("active", None)
    got = alice.number(m["id"])
    assert (got["status"], got["status_reason"]) == ("inactive", "configuration")
    alice.advance(3600)
    assert alice.number(m["id"])["status_reason"] == "configuration"
    set_config(alice, m["id"], False)
    assert alice.number(m["id"])["status"] == "active"

    assert [(x["from"], x["to"], x["reason"]) for x in history(alice, n["id"])][-4:] == [
        ("active", "inactive", "configuration"), ("inactive", "inactive", "billing"),
        ("inactive", "inactive", "configuration_resolved"), ("inactive", "active", "billing_resolved")]
    assert [(x["from"], x["to"], x["reason"]) for x in history(alice, m["id"])][-4:] == [
        ("active", "inactive", "billing"), ("inactive", "inactive", "configuration"),
        ("inactive", "inactive", "billing_resolved"), ("inactive", "active", "configuration_resolved")]


def test_reactivated_number_with_broken_configuration_is_held_again(alice) -> None:  # type: ignore[no-untyped-def]
    n = activate(alice)
    set_config(alice, n["id"], True)
    r = alice.post(f"/v1/numbers/{n['id']}/release", {"reason": "other", "reason_text": "broken",
                                                     "acknowledge": True})
    assert r.status_code == 200 and r.json()["status_reason"] is None
    alice.advance(25 * 3600)
    assert alice.post(f"/v1/numbers/{n['id']}/reactivate", {}).json()["status"] == "active"
    alice.advance(60)
    got = alice.number(n["id"])
    assert (got["status"], got["status_reason"]) == ("inactive", "configuration")
    set_config(alice, n["id"], False)
    assert alice.number(n["id"])["status"] == "active"


def test_configuration_broken_while_pending_holds_it_once_provisioned(alice) -> None:  # type: ignore[no-untyped-def]
    n = alice.buy()
    r = set_config(alice, n["id"], True)
    assert r.status_code == 200 and r.json()["status"] == "pending"     # nothing to stop yet
    alice.advance(61)
    got = alice.number(n["id"])
    assert (got["status"], got["status_reason"]) == ("inactive", "configuration")
    assert [(x["from"], x["to"], x["reason"]) for x in history(alice, n["id"])][-2:] == [
        ("pending", "active", "provisioned"), ("active", "inactive", "configuration")]


def test_throttled_pass_runs_once_per_interval_and_resumes(app) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from sqlalchemy import update

    from numberdesk.worker.models import SweepMark
    from numberdesk.worker.registry import claim_pass

    db = app.state.nd.db
    t0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    with db.session() as s:
        assert claim_pass(s, "x", t0, 60) == ""                 # first pass: from the start
    with db.session() as s:
        assert claim_pass(s, "x", t0 + dt.timedelta(seconds=59), 60) is None   # not due yet
        s.execute(update(SweepMark).where(SweepMark.name == "x").values(cursor="num_42"))
    with db.session() as s:
        assert claim_pass(s, "x", t0 + dt.timedelta(seconds=60), 60) == "num_42"   # goes on from there
    with db.session() as s:
        assert claim_pass(s, "x", t0 + dt.timedelta(seconds=61), 60) is None   # the next one waits again
