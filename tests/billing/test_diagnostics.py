"""Troubleshooting: the guide's three checklists, asserted check by check."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from twilio.request_validator import RequestValidator

from numberdesk.agents.models import Agent
from numberdesk.billing.service import set_account_status
from numberdesk.maintenance.service import end_maintenance, start_maintenance

from .helpers import activate

HELD = ["provisioning", "inactive", "assignment", "destination", "test_call",
        "active_calls", "has_dependencies", "release_permission", "maintenance"]
RELEASED = ["released", "cooldown", "reclaim_window", "eligibility", "reactivate_permission", "maintenance",
            "test_call"]


def diagnose(p: Any, number_id: str, role: str = "owner") -> dict[str, dict[str, Any]]:
    r = p.get(f"/v1/numbers/{number_id}/diagnostics", role=role)
    assert r.status_code == 200, r.text
    body = r.json()
    checks = {c["code"]: c for c in body["checks"]}
    assert len(checks) == len(body["checks"])
    for c in body["checks"]:
        assert c["detail"]
        # A failing check always says what to do; a passing one has nothing to fix.
        assert (c["remedy"] is None) == c["ok"], c
    assert body["ok"] == all(c["ok"] for c in body["checks"])
    checks["_order"] = [c["code"] for c in body["checks"]]  # type: ignore[assignment]
    return checks


def oks(checks: dict[str, Any]) -> dict[str, bool]:
    return {k: v["ok"] for k, v in checks.items() if k != "_order"}


def release(p: Any, number_id: str, **body: Any) -> dict[str, Any]:
    r = p.post(f"/v1/numbers/{number_id}/release", {"reason": "no_longer_needed", "acknowledge": True, **body})
    assert r.status_code == 200, r.text
    return r.json()


def twilio(p: Any, settings: Any, path: str, params: dict[str, str]) -> Any:
    sig = RequestValidator(settings.twilio_auth_token).compute_signature(settings.public_url + path, params)
    return p.client.post(path, data=params, headers={"X-Twilio-Signature": sig})


def call_params(to: str, status: str) -> dict[str, str]:
    return {"AccountSid": settings_sid(), "CallSid": "CA" + "7" * 32, "CallStatus": status,
            "Direction": "inbound", "From": "+14155550123", "To": to, "ApiVersion": "2010-04-01"}


def settings_sid() -> str:
    return "ACsandbox00000000000000000000000000"


# -- Number not working after purchase -------------------------------------------------------
def test_just_bought_number_is_still_pending(alice) -> None:  # type: ignore[no-untyped-def]
    n = alice.buy()
    alice.advance(30)
    c = diagnose(alice, n["id"])
    assert c["_order"] == HELD
    assert oks(c) == {"provisioning": False, "inactive": True, "assignment": False, "destination": False,
                      "test_call": False, "active_calls": True, "has_dependencies": True,
                      "release_permission": True, "maintenance": True}
    assert "Still pending" in c["provisioning"]["detail"] and "24\u201348 hours" in c["provisioning"]["detail"]
    assert c["provisioning"]["remedy"].startswith("Wait")
    assert "Contact support if it is still pending at" in c["provisioning"]["remedy"]
    assert "no fallback route" in c["assignment"]["detail"]
    assert "Assign the number to an agent" in c["assignment"]["remedy"]
    assert "pending" in c["test_call"]["detail"] and "provisioning" in c["test_call"]["remedy"]


def test_pending_over_48_hours_says_contact_support(alice) -> None:  # type: ignore[no-untyped-def]
    r = alice.client.put("/v1/sandbox/switches/stall_provisioning", json={"enabled": True}, headers=alice.h())
    assert r.status_code == 200, r.text
    n = alice.buy()
    alice.advance(47 * 3600)
    c = diagnose(alice, n["id"])
    assert not c["provisioning"]["ok"] and c["provisioning"]["remedy"].startswith("Wait")
    alice.advance(2 * 3600)
    c = diagnose(alice, n["id"])
    assert not c["provisioning"]["ok"]
    assert "Still pending 2 days" in c["provisioning"]["detail"]
    assert "longer than the 48 hours" in c["provisioning"]["detail"]
    assert c["provisioning"]["remedy"].startswith("Contact support: provisioning has exceeded 48 hours")
    assert n["id"] in c["provisioning"]["remedy"]


def test_working_number_passes_every_check(alice) -> None:  # type: ignore[no-untyped-def]
    agent = alice.agent(name="Ava", destination="wss://agents.example.com/ava")
    n = activate(alice, agent_id=agent["id"])
    c = diagnose(alice, n["id"])
    assert all(oks(c).values()), c
    assert c["provisioning"]["detail"].startswith("Provisioned on")
    assert c["assignment"]["detail"] == "Assigned to agent Ava."
    assert c["destination"]["detail"] == "The destination of agent Ava, wss://agents.example.com/ava, is valid."
    assert c["test_call"]["detail"].startswith("A test call connects") and "wss://agents.example.com/ava" in \
        c["test_call"]["detail"]


def test_unassigned_number_goes_to_the_fallback_when_one_is_set(alice) -> None:  # type: ignore[no-untyped-def]
    n = activate(alice)
    c = diagnose(alice, n["id"])
    assert oks(c)["assignment"] is False and oks(c)["destination"] is False and oks(c)["test_call"] is False
    assert "not in service" in c["test_call"]["detail"]
    assert "assignment" in c["test_call"]["remedy"]
    r = alice.patch("/v1/account", {"fallback_destination": "sip:frontdesk@pbx.example.com"})
    assert r.status_code == 200, r.text
    c = diagnose(alice, n["id"])
    assert oks(c)["assignment"] and oks(c)["destination"] and oks(c)["test_call"]
    assert "fallback route" in c["assignment"]["detail"]
    assert "sip:frontdesk@pbx.example.com" in c["test_call"]["detail"]


def test_pool_without_an_inbound_agent(alice) -> None:  # type: ignore[no-untyped-def]
    r = alice.post("/v1/pools", {"name": "Support lines"})
    assert r.status_code == 201, r.text
    pool = r.json()
    n = activate(alice)
    assert alice.post(f"/v1/numbers/{n['id']}/assign", {"pool_id": pool["id"]}).status_code == 200
    c = diagnose(alice, n["id"])
    assert not c["assignment"]["ok"] and c["assignment"]["detail"] == "In pool Support lines, which has no inbound agent."
    assert c["assignment"]["remedy"].startswith("Give the pool an inbound agent")
    assert not c["destination"]["ok"] and not c["test_call"]["ok"]
    agent = alice.agent(name="Ava", destination="+14155550199")
    assert alice.patch(f"/v1/pools/{pool['id']}", {"agent_id": agent["id"]}).status_code == 200
    c = diagnose(alice, n["id"])
    assert c["assignment"]["ok"] and c["destination"]["ok"] and c["test_call"]["ok"]
    assert c["destination"]["detail"] == \
        "The destination of the inbound agent of pool Support lines, +14155550199, is valid."


def test_agent_with_a_broken_destination(app, alice) -> None:  # type: ignore[no-untyped-def]
    agent = alice.agent(name="Bo")
    n = activate(alice, agent_id=agent["id"])
    # A destination saved before validation existed (written straight to the table).
    with app.state.nd.db.session() as s:
        s.execute(update(Agent).where(Agent.id == agent["id"]).values(destination="http://old.example.com/bo"))
    c = diagnose(alice, n["id"])
    assert c["assignment"]["ok"] and not c["destination"]["ok"]
    assert c["destination"]["detail"].startswith(
        "The destination of agent Bo, 'http://old.example.com/bo', is not a SIP URI")
    assert c["destination"]["remedy"].startswith("Edit the agent's destination")


def test_inactive_numbers_say_why_and_what_to_do(app, alice) -> None:  # type: ignore[no-untyped-def]
    agent = alice.agent()
    n = activate(alice, agent_id=agent["id"])
    r = alice.client.put(f"/v1/sandbox/numbers/{n['id']}/configuration", json={"broken": True},
                         headers=alice.h())
    assert r.status_code == 200
    c = diagnose(alice, n["id"])
    assert oks(c)["inactive"] is False and oks(c)["test_call"] is False
    assert oks(c)["provisioning"] and oks(c)["assignment"] and oks(c)["destination"]
    assert c["inactive"]["detail"].startswith("Inactive: the carrier reports a configuration problem")
    assert "http://testserver/webhooks/sandbox/voice" in c["inactive"]["remedy"]
    assert "inactive" in c["test_call"]["detail"] and "inactive" in c["test_call"]["remedy"]

    set_account_status(app.state.nd, alice.account_id, "past_due")
    c = diagnose(alice, n["id"])
    assert c["inactive"]["detail"].startswith(
        "Inactive: the account is past due and the carrier reports a configuration problem")
    assert c["inactive"]["remedy"].startswith("Both causes must be resolved. Pay the outstanding balance")

    alice.client.put(f"/v1/sandbox/numbers/{n['id']}/configuration", json={"broken": False}, headers=alice.h())
    c = diagnose(alice, n["id"])
    assert c["inactive"]["detail"].startswith("Inactive: the account is past due;")
    assert c["inactive"]["remedy"].startswith("Pay the outstanding balance")
    set_account_status(app.state.nd, alice.account_id, "good")
    assert all(oks(diagnose(alice, n["id"])).values())


# -- Cannot release a phone number -----------------------------------------------------------
def test_what_blocks_a_release(app, settings, alice) -> None:  # type: ignore[no-untyped-def]
    agent = alice.agent()
    n = activate(alice, agent_id=agent["id"])
    # A call in progress.
    assert twilio(alice, settings, "/webhooks/twilio/voice", call_params(n["phone_number"], "ringing")).status_code == 200
    assert twilio(alice, settings, "/webhooks/twilio/status",
                  call_params(n["phone_number"], "in-progress")).status_code == 204
    # An automation that uses it.
    r = alice.post("/v1/automations", {"name": "After-hours flow", "kind": "call_flow", "number_ids": [n["id"]]})
    assert r.status_code == 201, r.text
    c = diagnose(alice, n["id"])
    assert not c["active_calls"]["ok"] and "in progress" in c["active_calls"]["detail"]
    assert c["active_calls"]["remedy"].startswith("Wait until the calls in progress end")
    assert not c["has_dependencies"]["ok"] and "'After-hours flow'" in c["has_dependencies"]["detail"]
    assert "Remove the number from 'After-hours flow'" in c["has_dependencies"]["remedy"]

    # The member role may look, but not release.
    m = diagnose(alice, n["id"], role="member")
    assert not m["release_permission"]["ok"]
    assert m["release_permission"]["detail"] == "Your role (member) may not release numbers."
    assert "admin or owner role" in m["release_permission"]["remedy"]
    assert c["release_permission"]["ok"]

    # A maintenance window.
    st = app.state.nd
    with st.db.session() as s:
        start_maintenance(s, st.clock.now(), 30)
    c = diagnose(alice, n["id"])
    assert not c["maintenance"]["ok"] and "releasing numbers is paused" in c["maintenance"]["detail"]
    assert c["maintenance"]["remedy"].startswith("Try again after")
    with st.db.session() as s:
        end_maintenance(s, st.clock.now())

    # Everything cleared: the release goes through.
    twilio(alice, settings, "/webhooks/twilio/status", call_params(n["phone_number"], "completed"))
    auto = r.json()["id"]
    assert alice.delete(f"/v1/automations/{auto}").status_code == 204
    c = diagnose(alice, n["id"])
    assert c["active_calls"]["ok"] and c["has_dependencies"]["ok"] and c["maintenance"]["ok"]
    release(alice, n["id"])


# -- Missed reactivation window --------------------------------------------------------------
def test_released_number_walks_the_reactivation_checks(alice) -> None:  # type: ignore[no-untyped-def]
    n = activate(alice)
    release(alice, n["id"])
    c = diagnose(alice, n["id"])
    assert c["_order"] == RELEASED
    assert oks(c) == {"released": False, "cooldown": False, "reclaim_window": True, "eligibility": True,
                      "reactivate_permission": True, "maintenance": True, "test_call": False}
    assert c["cooldown"]["remedy"].startswith("Wait until")
    assert "10 days left" in c["reclaim_window"]["detail"] or "9 days" in c["reclaim_window"]["detail"]
    assert "released" in c["test_call"]["detail"]
    alice.advance(24 * 3600 + 5)
    c = diagnose(alice, n["id"])
    assert c["cooldown"]["ok"] and c["reclaim_window"]["ok"]
    assert "reactivate" in c["released"]["remedy"].lower()


def test_missed_reclaim_window_suggests_support_and_similar_numbers(alice) -> None:  # type: ignore[no-untyped-def]
    n = activate(alice)
    release(alice, n["id"])
    alice.advance(10 * 86400 + 60)
    c = diagnose(alice, n["id"])
    assert c["_order"] == ["released", "reclaim_window", "test_call"]
    assert oks(c) == {"released": False, "reclaim_window": False, "test_call": False}
    assert "went back to the carrier" in c["released"]["detail"]
    assert "10-day reclaim window ended" in c["reclaim_window"]["detail"]
    remedy = c["reclaim_window"]["remedy"]
    assert remedy.startswith("Contact support to ask whether a special exception is possible.")
    assert "Similar numbers for sale now:" in remedy
    assert "Next time, reactivate within 10 days" in remedy


def test_not_eligible_reasons_have_their_own_remedy(app, alice) -> None:  # type: ignore[no-untyped-def]
    spam = activate(alice)
    release(alice, spam["id"], reason="spam_reported")
    c = diagnose(alice, spam["id"])
    assert not c["eligibility"]["ok"] and "spam_reported" in c["eligibility"]["detail"]
    assert "never comes back" in c["eligibility"]["remedy"]

    other = activate(alice)
    release(alice, other["id"])
    set_account_status(app.state.nd, alice.account_id, "past_due")
    c = diagnose(alice, other["id"])
    assert not c["eligibility"]["ok"] and "past due" in c["eligibility"]["detail"]
    assert c["eligibility"]["remedy"].startswith("Pay the outstanding balance")
    v = diagnose(alice, other["id"], role="viewer")
    assert not v["reactivate_permission"]["ok"]


def test_diagnostics_belong_to_the_account(alice, bob) -> None:  # type: ignore[no-untyped-def]
    n = alice.buy()
    r = bob.get(f"/v1/numbers/{n['id']}/diagnostics")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert alice.client.get(f"/v1/numbers/{n['id']}/diagnostics").status_code == 401


def test_number_page_hints_are_the_diagnosis_when_two_causes_hold(app, client, alice) -> None:  # type: ignore[no-untyped-def]
    """The number page's hints render ``diagnose()``: with two causes they name both, as the API does
    (they once showed only the cause ``status_reason`` names, billing)."""
    import html

    from tests.dashboard.helpers import sign_in

    agent = alice.agent()
    n = activate(alice, agent_id=agent["id"])
    assert alice.client.put(f"/v1/sandbox/numbers/{n['id']}/configuration", json={"broken": True},
                            headers=alice.h()).status_code == 200
    set_account_status(app.state.nd, alice.account_id, "past_due")
    assert alice.number(n["id"])["status_reason"] == "billing"
    inactive = diagnose(alice, n["id"])["inactive"]
    assert "past due" in inactive["detail"] and "configuration problem" in inactive["detail"]

    sign_in(client, alice.email, alice.password)
    page = client.get(f"/numbers/{n['id']}")
    assert page.status_code == 200
    hints = html.unescape(page.text.split('aria-label="Troubleshooting"')[1].split("</section>")[0])
    assert inactive["detail"] in hints and inactive["remedy"] in hints

    set_account_status(app.state.nd, alice.account_id, "good")        # one cause left: configuration
    inactive = diagnose(alice, n["id"])["inactive"]
    assert "past due" not in inactive["detail"]
    hints = html.unescape(client.get(f"/numbers/{n['id']}").text.split('aria-label="Troubleshooting"')[1]
                          .split("</section>")[0])
    assert inactive["detail"] in hints and "past due" not in hints
