"""Shared steps of the routing and calls tests: signed carrier requests, numbers in each state."""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from typing import Any

from nacl.signing import SigningKey
from sqlalchemy import update
from twilio.request_validator import RequestValidator

from numberdesk.numbers.models import PhoneNumber

RELEASE = {"reason": "no_longer_needed", "acknowledge": True}


def ts(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def sandbox_now(persona: Any) -> dt.datetime:
    r = persona.get("/v1/sandbox/clock")
    assert r.status_code == 200, r.text
    return ts(r.json()["now"])


def advance_past(persona: Any, target: dt.datetime, extra: int = 1) -> None:
    """Move the sandbox clock to just after ``target``."""
    gap = math.ceil((target - sandbox_now(persona)).total_seconds()) + extra
    if gap >= 1:
        persona.advance(gap)
    assert sandbox_now(persona) > target


def active_number(persona: Any, **buy: Any) -> dict[str, Any]:
    """A number bought and provisioned (the sandbox takes 60 s of clock time)."""
    n = persona.buy(**buy)
    persona.advance(61)
    n = persona.number(n["id"])
    assert n["status"] == "active", n
    return n


def release(persona: Any, number_id: str, role: str = "owner") -> Any:
    return persona.post(f"/v1/numbers/{number_id}/release", RELEASE, role=role)


def set_status(app: Any, number_id: str, status: str, reason: str | None = None) -> None:
    """Put a number straight into a status the carrier or billing would cause (e.g. inactive)."""
    with app.state.nd.db.session() as s:
        s.execute(update(PhoneNumber).where(PhoneNumber.id == number_id)
                  .values(status=status, status_reason=reason))


# -- Twilio -------------------------------------------------------------------------------
def twilio_signature(settings: Any, url: str, params: dict[str, str]) -> str:
    return RequestValidator(settings.twilio_auth_token).compute_signature(url, params)


def twilio_post(client: Any, settings: Any, path: str, params: dict[str, str], *,
                sign_url: str | None = None, sign_params: dict[str, str] | None = None,
                signature: str | None = None) -> Any:
    """POST a form as Twilio would, signed for ``sign_url``/``sign_params`` (default: exactly this request)."""
    sig = signature if signature is not None else twilio_signature(
        settings, sign_url or settings.public_url + path, sign_params if sign_params is not None else params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": sig})


def voice_params(to: str, sid: str = "CA00000000000000000000000000000001",
                 from_: str = "+14155550123") -> dict[str, str]:
    return {"AccountSid": "ACsandbox00000000000000000000000000", "CallSid": sid, "CallStatus": "ringing",
            "Direction": "inbound", "From": from_, "To": to, "ApiVersion": "2010-04-01"}


def status_params(to: str, sid: str, status: str, **extra: str) -> dict[str, str]:
    return {**voice_params(to, sid), "CallStatus": status, **extra}


# -- Telnyx ------------------------------------------------------------------------------
class TelnyxSigner:
    """A real ed25519 key pair; the public half goes into the settings."""

    def __init__(self) -> None:
        self.key = SigningKey.generate()
        self.public_b64 = base64.b64encode(bytes(self.key.verify_key)).decode()

    def headers(self, body: bytes, timestamp: int) -> dict[str, str]:
        sig = self.key.sign(f"{timestamp}".encode() + b"|" + body).signature
        return {"telnyx-signature-ed25519": base64.b64encode(sig).decode(),
                "telnyx-timestamp": str(timestamp), "content-type": "application/json"}


def telnyx_event(event_type: str, call_id: str, to: str, from_: str = "+14155550123",
                 occurred_at: dt.datetime | None = None, **payload: Any) -> bytes:
    data = {"data": {"record_type": "event", "event_type": event_type, "id": f"evt-{event_type}-{call_id}",
                     "occurred_at": (occurred_at or dt.datetime.now(dt.UTC)).isoformat().replace("+00:00", "Z"),
                     "payload": {"call_control_id": call_id, "call_leg_id": f"leg-{call_id}",
                                 "direction": "incoming", "from": from_, "to": to, **payload}},
            "meta": {"attempt": 1, "delivered_to": "http://testserver/webhooks/telnyx"}}
    return json.dumps(data).encode()
