"""The routing decision for every status and kind of assignment, through every door:
the JSON route lookup, the Twilio voice webhook (TwiML) and the test call."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from numberdesk.calls.models import ActiveCall
from tests.routing.helpers import (
    active_number,
    advance_past,
    release,
    set_status,
    ts,
    twilio_post,
    voice_params,
)

NOT_IN_SERVICE = "<Say>The number you have called is not in service. Goodbye.</Say><Hangup />"


def _route(persona: Any, e164: str) -> dict[str, Any]:
    r = persona.get(f"/v1/routes/{e164}", role="viewer")
    assert r.status_code == 200, r.text
    return r.json()


def _voice(client: Any, settings: Any, e164: str, sid: str) -> str:
    r = twilio_post(client, settings, "/webhooks/twilio/voice", voice_params(e164, sid))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/xml")
    return r.text


def _active_calls(app: Any) -> list[ActiveCall]:
    with app.state.nd.db.session(write=False) as s:
        return list(s.scalars(select(ActiveCall).order_by(ActiveCall.id)))


def test_agents_sip_phone_and_stream(app, client, settings, alice) -> None:  # type: ignore[no-untyped-def]
    cases = [
        ("sip:ava@agents.example.com", "<Dial><Sip>sip:ava@agents.example.com</Sip></Dial>", "rings"),
        ("+14155550199", "<Dial><Number>+14155550199</Number></Dial>", "forwarded"),
        ("wss://voice.example.com/stream?bot=7&x=1",
         '<Connect><Stream url="wss://voice.example.com/stream?bot=7&amp;x=1" /></Connect>', "streamed"),
    ]
    for i, (dest, twiml, verb) in enumerate(cases):
        agent = alice.agent(name=f"Agent {i}", destination=dest)
        n = active_number(alice, agent_id=agent["id"])
        route = _route(alice, n["phone_number"])
        assert route == {"number_id": n["id"], "status": "active",
                         "route": {"type": "agent", "destination": dest, "agent_id": agent["id"]},
                         "reason": route["reason"]}
        assert f"Agent {i}" in route["reason"]
        assert twiml in _voice(client, settings, n["phone_number"], f"CA{i:032d}")
        t = alice.post(f"/v1/numbers/{n['id']}/test-call", {"from": "(415) 555-0142"}, role="member")
        assert t.status_code == 200, t.text
        body = t.json()
        assert body["route"]["type"] == "agent" and body["route"]["agent_name"] == f"Agent {i}"
        assert body["from"] == "+14155550142" and verb in body["reaches"] and twiml in body["twiml"]
    calls = _active_calls(app)
    assert [(c.account_id, c.status, c.call_sid) for c in calls] == [
        (alice.account_id, "ringing", f"CA{i:032d}") for i in range(3)]
    # Recorded at the one clock's time, readable like any other row.
    now = app.state.nd.clock.now()
    assert all(abs((now - c.started_at).total_seconds()) < 300 for c in calls)
    assert [c.to_number for c in calls] == [alice.get(f"/v1/routes/{c.to_number}").json()["number_id"] and c.to_number
                                           for c in calls]


def test_pool_routes_to_the_pools_agent(app, client, settings, alice) -> None:  # type: ignore[no-untyped-def]
    agent = alice.agent(name="Sales desk", destination="sip:sales@pbx.example.com")
    pool = alice.post("/v1/pools", {"name": "Sales", "strategy": "local_presence", "agent_id": agent["id"]})
    assert pool.status_code == 201, pool.text
    n = active_number(alice)
    assert alice.post(f"/v1/numbers/{n['id']}/assign", {"pool_id": pool.json()["id"]}).status_code == 200
    route = _route(alice, n["phone_number"])
    assert route["route"] == {"type": "pool", "destination": "sip:sales@pbx.example.com", "agent_id": agent["id"]}
    assert "Sales" in route["reason"]
    assert "<Dial><Sip>sip:sales@pbx.example.com</Sip></Dial>" in _voice(client, settings, n["phone_number"], "CApool")
    assert _active_calls(app)[0].agent_id == agent["id"]

    # A pool without an inbound agent falls through to the account's fallback, if any.
    r = alice.patch(f"/v1/pools/{pool.json()['id']}", {"agent_id": None})
    assert r.status_code == 200 and r.json()["agent_id"] is None
    route = _route(alice, n["phone_number"])
    assert route["route"]["type"] == "not_in_service" and "no inbound agent" in route["reason"]
    assert alice.patch("/v1/account", {"fallback_destination": "+14155550100"}).status_code == 200
    route = _route(alice, n["phone_number"])
    assert route["route"] == {"type": "fallback", "destination": "+14155550100", "agent_id": None}


def test_unassigned_goes_to_fallback_or_is_not_in_service(client, settings, alice) -> None:  # type: ignore[no-untyped-def]
    n = active_number(alice)
    route = _route(alice, n["phone_number"])
    assert route["route"] == {"type": "not_in_service", "destination": None, "agent_id": None}
    assert "no fallback" in route["reason"]
    assert NOT_IN_SERVICE in _voice(client, settings, n["phone_number"], "CAnofallback")
    assert alice.patch("/v1/account", {"fallback_destination": "sip:front-desk@pbx.example.com"}).status_code == 200
    route = _route(alice, n["phone_number"])
    assert route["route"] == {"type": "fallback", "destination": "sip:front-desk@pbx.example.com", "agent_id": None}
    assert "<Sip>sip:front-desk@pbx.example.com</Sip>" in _voice(client, settings, n["phone_number"], "CAfallback")


def test_pending_and_inactive_are_not_in_service(app, client, settings, alice) -> None:  # type: ignore[no-untyped-def]
    assert alice.patch("/v1/account", {"fallback_destination": "+14155550100"}).status_code == 200
    agent = alice.agent()
    pending = alice.buy(agent_id=agent["id"])
    route = _route(alice, pending["phone_number"])
    assert route["status"] == "pending" and route["route"]["type"] == "not_in_service"
    assert "provisioning" in route["reason"]
    assert NOT_IN_SERVICE in _voice(client, settings, pending["phone_number"], "CApending")

    for reason, words in (("billing", "past due"), ("configuration", "configuration problem")):
        n = active_number(alice, agent_id=agent["id"])
        set_status(app, n["id"], "inactive", reason)
        route = _route(alice, n["phone_number"])
        assert route["status"] == "inactive" and route["route"]["type"] == "not_in_service"
        assert words in route["reason"]
        assert NOT_IN_SERVICE in _voice(client, settings, n["phone_number"], f"CAinactive{reason}")
        t = alice.post(f"/v1/numbers/{n['id']}/test-call", {}).json()
        assert t["route"]["type"] == "not_in_service" and "not in service" in t["reaches"]
    # A call that reaches nobody is not "in progress" on the number.
    assert _active_calls(app) == []


def test_released_number_never_reaches_its_agent(app, client, settings, alice) -> None:  # type: ignore[no-untyped-def]
    assert alice.patch("/v1/account", {"fallback_destination": "+14155550100"}).status_code == 200
    agent = alice.agent(destination="sip:ava@agents.example.com")
    n = active_number(alice, agent_id=agent["id"])
    assert _route(alice, n["phone_number"])["route"]["type"] == "agent"
    r = release(alice, n["id"])
    assert r.status_code == 200, r.text
    route = _route(alice, n["phone_number"])
    assert route["status"] == "released"
    assert route["route"] == {"type": "not_in_service", "destination": None, "agent_id": None}
    assert "released" in route["reason"]
    answer = _voice(client, settings, n["phone_number"], "CAreleased")
    assert NOT_IN_SERVICE in answer and "ava@" not in answer and "+14155550100" not in answer
    t = alice.post(f"/v1/numbers/{n['id']}/test-call", {}).json()
    assert t["route"]["type"] == "not_in_service" and t["status"] == "released"
    assert _active_calls(app) == []


def test_moved_number_reaches_only_the_new_owner(app, client, settings, alice, bob) -> None:  # type: ignore[no-untyped-def]
    e164 = alice.search(limit=1)[0]["phone_number"]
    alice_agent = alice.agent(name="Alice bot", destination="sip:alice-bot@acme.example.com")
    n = active_number(alice, phone_number=e164, agent_id=alice_agent["id"])
    r = release(alice, n["id"])
    assert r.status_code == 200, r.text
    deadline = ts(r.json()["release"]["reclaim_deadline"])
    advance_past(alice, deadline + dt.timedelta(days=settings.sandbox_aging_days))
    assert alice.number(n["id"])["returned_to_carrier"] is True
    # Returned and not yet sold: nobody holds it.
    assert alice.get(f"/v1/routes/{e164}").status_code == 404
    assert NOT_IN_SERVICE in _voice(client, settings, e164, "CAnobody")

    bob_agent = bob.agent(name="Bob bot", destination="wss://bob.example.com/agent")
    bought = active_number(bob, phone_number=e164, agent_id=bob_agent["id"])
    route = _route(bob, e164)
    assert route["number_id"] == bought["id"]
    assert route["route"] == {"type": "agent", "destination": "wss://bob.example.com/agent",
                              "agent_id": bob_agent["id"]}
    answer = _voice(client, settings, e164, "CAmoved")
    assert 'url="wss://bob.example.com/agent"' in answer and "alice-bot" not in answer
    [call] = _active_calls(app)
    assert (call.account_id, call.number_id, call.agent_id) == (bob.account_id, bought["id"], bob_agent["id"])
    # Alice keeps a read-only record; its test call reaches nobody, and she cannot see Bob's route.
    assert alice.get(f"/v1/routes/{e164}").status_code == 404
    t = alice.post(f"/v1/numbers/{n['id']}/test-call", {}).json()
    assert t["route"]["type"] == "not_in_service" and "went back to the carrier" in t["reason"]


def test_route_lookup_is_scoped_and_checked(alice, bob) -> None:  # type: ignore[no-untyped-def]
    agent = alice.agent()
    n = active_number(alice, agent_id=agent["id"])
    for path in (f"/v1/routes/{n['phone_number']}", "/v1/routes/+14155550000"):
        r = bob.get(path)
        assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert bob.post(f"/v1/numbers/{n['id']}/test-call", {}).status_code == 404
    assert alice.get("/v1/routes/not-a-number").status_code == 422
    # Any form a person types is accepted.
    national = n["national_format"]
    assert _route(alice, national)["number_id"] == n["id"]
    assert alice.post(f"/v1/numbers/{n['id']}/test-call", {}, role="viewer").status_code == 403
    assert alice.post(f"/v1/numbers/{n['id']}/test-call", {"from": "nope"}).status_code == 422
    assert alice.post(f"/v1/numbers/{n['id']}/test-call", {"caller": "+14155550100"}).status_code == 422
    assert alice.post(f"/v1/numbers/{n['id']}/test-call", {}, role="member").status_code == 200
