"""Carrier webhooks: signatures (Twilio HMAC, Telnyx ed25519), calls in progress blocking a
release, and status callbacks that arrive twice or out of order."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import func, select

from numberdesk.calls.models import ActiveCall, Call, CallRollup, WebhookEvent
from tests.routing.helpers import (
    TelnyxSigner,
    active_number,
    release,
    status_params,
    telnyx_event,
    twilio_post,
    voice_params,
)

SIGNER = TelnyxSigner()


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"telnyx_public_key": SIGNER.public_b64}


def _count(app: Any, model: Any) -> int:
    with app.state.nd.db.session(write=False) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def _calls(app: Any) -> list[Call]:
    with app.state.nd.db.session(write=False) as s:
        return list(s.scalars(select(Call).order_by(Call.started_at, Call.id)))


def _active(app: Any) -> list[ActiveCall]:
    with app.state.nd.db.session(write=False) as s:
        return list(s.scalars(select(ActiveCall).order_by(ActiveCall.id)))


def _routed_number(alice: Any) -> dict[str, Any]:
    agent = alice.agent(destination="sip:ava@agents.example.com")
    return active_number(alice, agent_id=agent["id"])


def _now(app: Any) -> int:
    return int(app.state.nd.clock.now().timestamp())


def test_twilio_signatures(app, client, settings, alice) -> None:  # type: ignore[no-untyped-def]
    n = _routed_number(alice)
    path = "/webhooks/twilio/voice"
    good = voice_params(n["phone_number"], "CAgood")
    tampered = {**good, "To": "+14155550000"}
    refused = [
        twilio_post(client, settings, path, tampered, sign_params=good),                  # tampered parameter
        twilio_post(client, settings, path, {**good, "Digits": "1"}, sign_params=good),   # extra parameter
        twilio_post(client, settings, path, good, sign_url="https://evil.example.com" + path),  # wrong URL
        twilio_post(client, settings, path + "?tenant=a", good, sign_url=settings.public_url + path),
        twilio_post(client, settings, path, good, signature=""),                         # unsigned
        twilio_post(client, settings, path, good, signature="bm90IGEgc2lnbmF0dXJl"),
        client.post(path, data=good),
    ]
    for r in refused:
        assert r.status_code == 403, r.text
        assert r.json()["code"] == "forbidden"
    status_path = "/webhooks/twilio/status"
    done = status_params(n["phone_number"], "CAgood", "completed", CallDuration="30")
    r = twilio_post(client, settings, status_path, {**done, "CallDuration": "3000"}, sign_params=done)
    assert r.status_code == 403
    assert (_count(app, ActiveCall), _count(app, Call), _count(app, WebhookEvent)) == (0, 0, 0)

    r = twilio_post(client, settings, path, good)
    assert r.status_code == 200 and "<Sip>sip:ava@agents.example.com</Sip>" in r.text
    # A query string is part of what Twilio signs.
    r = twilio_post(client, settings, path + "?tenant=a", voice_params(n["phone_number"], "CAquery"),
                    sign_url=settings.public_url + path + "?tenant=a")
    assert r.status_code == 200, r.text
    assert [c.call_sid for c in _active(app)] == ["CAgood", "CAquery"]


def test_telnyx_signatures_and_freshness(app, client, alice) -> None:  # type: ignore[no-untyped-def]
    n = _routed_number(alice)
    body = telnyx_event("call.initiated", "v3:abc", n["phone_number"])
    now = _now(app)
    stranger = TelnyxSigner()
    refused = [
        client.post("/webhooks/telnyx", content=body.replace(b"+14155550123", b"+14155550124"),
                    headers=SIGNER.headers(body, now)),                             # tampered body
        client.post("/webhooks/telnyx", content=body, headers=SIGNER.headers(body, now - 301)),  # stale
        client.post("/webhooks/telnyx", content=body, headers=SIGNER.headers(body, now + 301)),  # from the future
        client.post("/webhooks/telnyx", content=body, headers=stranger.headers(body, now)),      # another key
        client.post("/webhooks/telnyx", content=body, headers={"content-type": "application/json"}),
    ]
    for r in refused:
        assert r.status_code == 403, r.text
    assert _count(app, ActiveCall) == 0

    r = client.post("/webhooks/telnyx", content=body, headers=SIGNER.headers(body, now - 250))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/xml")
    assert "<Dial><Sip>sip:ava@agents.example.com</Sip></Dial>" in r.text
    assert [(c.provider, c.call_sid, c.status) for c in _active(app)] == [("telnyx", "v3:abc", "ringing")]

    # Freshness is judged by the one clock: after the sandbox clock moves an hour,
    # a request signed at the real time is an hour old.
    alice.advance(3600)
    real = int(time.time())
    late = telnyx_event("call.hangup", "v3:abc", n["phone_number"], hangup_cause="normal_clearing")
    assert client.post("/webhooks/telnyx", content=late, headers=SIGNER.headers(late, real)).status_code == 403
    assert _count(app, Call) == 0


def test_telnyx_call_lifecycle(app, client, alice) -> None:  # type: ignore[no-untyped-def]
    n = _routed_number(alice)
    e164 = n["phone_number"]

    def send(event_type: str, call_id: str, **payload: Any) -> Any:
        body = telnyx_event(event_type, call_id, e164, occurred_at=app.state.nd.clock.now(), **payload)
        r = client.post("/webhooks/telnyx", content=body, headers=SIGNER.headers(body, _now(app)))
        assert r.status_code in (200, 204), r.text
        return r

    send("call.initiated", "talk")
    send("call.answered", "talk")
    assert [(c.call_sid, c.status) for c in _active(app)] == [("talk", "in_progress")]
    alice.advance(90)
    send("call.hangup", "talk", hangup_cause="normal_clearing")
    send("call.hangup", "talk", hangup_cause="normal_clearing")  # delivered twice
    send("call.initiated", "busy")
    send("call.hangup", "busy", hangup_cause="user_busy")
    send("call.initiated", "gone")
    send("call.hangup", "gone", hangup_cause="originator_cancel")
    calls = {c.provider_call_id: c for c in _calls(app)}
    assert {k: c.status for k, c in calls.items()} == {"talk": "completed", "busy": "busy", "gone": "canceled"}
    assert 89 <= calls["talk"].duration_seconds <= 92 and calls["busy"].duration_seconds == 0
    assert calls["talk"].account_id == alice.account_id and calls["talk"].number_id == n["id"]
    assert _active(app) == []


def test_release_refused_while_a_call_is_in_progress(app, client, settings, alice) -> None:  # type: ignore[no-untyped-def]
    n = _routed_number(alice)
    path = "/webhooks/twilio/status"
    assert twilio_post(client, settings, path, status_params(n["phone_number"], "CAbusy1", "ringing")).status_code == 204
    r = release(alice, n["id"])
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "release_blocked"
    assert [b["code"] for b in r.json()["blockers"]] == ["active_calls"]
    assert twilio_post(client, settings, path, status_params(n["phone_number"], "CAbusy1", "in-progress")).status_code == 204
    assert release(alice, n["id"]).status_code == 409
    r = alice.get("/v1/active-calls", params={"number_id": n["id"]}, role="viewer")
    assert [(c["call_sid"], c["status"]) for c in r.json()["data"]] == [("CAbusy1", "in_progress")]
    done = status_params(n["phone_number"], "CAbusy1", "completed", CallDuration="61")
    assert twilio_post(client, settings, path, done).status_code == 204
    r = release(alice, n["id"])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "released"
    [call] = _calls(app)
    assert (call.status, call.duration_seconds, call.number_id) == ("completed", 61, n["id"])


def test_duplicate_and_out_of_order_callbacks(app, client, settings, alice) -> None:  # type: ignore[no-untyped-def]
    n = _routed_number(alice)
    e164 = n["phone_number"]

    def send(sid: str, status: str, **extra: str) -> None:
        r = twilio_post(client, settings, "/webhooks/twilio/status", status_params(e164, sid, status, **extra))
        assert r.status_code == 204, r.text

    # In order, every event delivered twice: one record.
    assert twilio_post(client, settings, "/webhooks/twilio/voice", voice_params(e164, "CAtwice")).status_code == 200
    for status in ("ringing", "ringing", "in-progress", "in-progress"):
        send("CAtwice", status)
    assert [a.status for a in _active(app)] == ["in_progress"]
    send("CAtwice", "completed", CallDuration="45")
    send("CAtwice", "completed", CallDuration="45")
    # The voice webhook retried after the end does not bring the call back either.
    assert twilio_post(client, settings, "/webhooks/twilio/voice", voice_params(e164, "CAtwice")).status_code == 200

    # Out of order: the end first, then the late ringing and answer.
    send("CAlate", "completed", CallDuration="20")
    send("CAlate", "ringing")
    send("CAlate", "in-progress")
    # A late "ringing" after the answer does not un-answer the call.
    send("CAseq", "in-progress", SequenceNumber="1")
    send("CAseq", "ringing", SequenceNumber="0")
    assert [(a.call_sid, a.status) for a in _active(app)] == [("CAseq", "in_progress")]
    send("CAseq", "completed", SequenceNumber="2", CallDuration="5")
    send("CAmiss", "ringing")
    send("CAmiss", "no-answer")
    send("CAmiss", "ringing")

    assert _active(app) == []
    calls = {c.provider_call_id: c for c in _calls(app)}
    assert {k: (c.status, c.duration_seconds) for k, c in calls.items()} == {
        "CAtwice": ("completed", 45), "CAlate": ("completed", 20), "CAseq": ("completed", 5),
        "CAmiss": ("no_answer", 0)}
    assert all(c.agent_id is not None and c.account_id == alice.account_id for c in calls.values())
    with app.state.nd.db.session(write=False) as s:
        total = s.scalar(select(func.sum(CallRollup.calls)).where(CallRollup.dim == "a",
                                                                  CallRollup.account_id == alice.account_id))
    assert total == 4
    a = alice.get("/v1/analytics").json()
    assert (a["total_calls"], a["answered_calls"], a["missed_calls"], a["missed_rate"]) == (4, 3, 1, 0.25)
    assert a["avg_duration_seconds"] == 23.3


def test_the_documented_route_answers_like_the_fast_path(app, settings, alice) -> None:  # type: ignore[no-untyped-def]
    """Without the fast path (another ASGI stack), the FastAPI route gives the same answers."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from numberdesk.app import install_error_handlers
    from numberdesk.routing.webhook_endpoints import router

    n = _routed_number(alice)
    plain = FastAPI()
    plain.state.nd = app.state.nd
    install_error_handlers(plain)
    plain.include_router(router)
    with TestClient(plain) as c:
        good = voice_params(n["phone_number"], "CAplain")
        r = twilio_post(c, settings, "/webhooks/twilio/voice", {**good, "To": "+14155550000"}, sign_params=good)
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
        r = twilio_post(c, settings, "/webhooks/twilio/voice", good)
        assert r.status_code == 200 and "<Sip>sip:ava@agents.example.com</Sip>" in r.text
    assert [a.call_sid for a in _active(app)] == ["CAplain"]


def test_a_call_whose_end_never_came_stops_blocking_release(app, client, settings, alice) -> None:  # type: ignore[no-untyped-def]
    n = _routed_number(alice)
    assert twilio_post(client, settings, "/webhooks/twilio/voice", voice_params(n["phone_number"], "CAlost")).status_code == 200
    assert release(alice, n["id"]).status_code == 409
    alice.advance(24 * 3600)
    assert release(alice, n["id"]).status_code == 409  # a long call is still a call
    alice.advance(3600 + 60)
    assert _active(app) == []
    assert release(alice, n["id"]).status_code == 200


def test_a_call_answered_while_another_writer_holds_the_lock(app, client, settings, alice, backend) -> None:  # type: ignore[no-untyped-def]
    """The answer waits for the other writer (off the event loop) and the call is still recorded."""
    import threading

    from sqlalchemy import create_engine, text

    n = _routed_number(alice)
    holder = create_engine(settings.resolved_database_url, isolation_level="AUTOCOMMIT")
    with holder.connect() as conn:
        if backend["kind"] == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")
            conn.execute(text("LOCK TABLE active_calls IN EXCLUSIVE MODE"))
        out: dict[str, Any] = {}
        t = threading.Thread(target=lambda: out.update(r=twilio_post(
            client, settings, "/webhooks/twilio/voice", voice_params(n["phone_number"], "CAwaited"))))
        t.start()
        t.join(1.0)
        assert t.is_alive()  # still waiting for the lock
        conn.exec_driver_sql("COMMIT")
    t.join(60)
    holder.dispose()
    assert out["r"].status_code == 200 and "<Sip>" in out["r"].text
    assert [a.call_sid for a in _active(app)] == ["CAwaited"]
