"""Carrier webhooks, after their signature is checked: reading carriers' status events and
applying them (answering a call is ``routing.answer``).

Each function is one unit of work on the deployment's database.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Mapping
from typing import Any

from numberdesk.calls import service as calls
from numberdesk.calls.service import CallEvent
from numberdesk.routing.decide import decide
from numberdesk.runtime import AppState

TWILIO_STATUSES = {
    "ringing": "ringing", "in-progress": "in_progress", "answered": "in_progress",
    "completed": "completed", "busy": "busy", "no-answer": "no_answer", "failed": "failed",
    "canceled": "canceled",
}
# Telnyx hangup causes of a call that was never answered, in our words.
TELNYX_UNANSWERED = {
    "user_busy": "busy", "call_rejected": "busy", "timeout": "no_answer", "no_answer": "no_answer",
    "originator_cancel": "canceled", "normal_clearing": "canceled",
}


def status_event(st: AppState, provider: str, event_id: str, ev: CallEvent | None) -> str:
    """Store the event once, then apply it (``duplicate`` when it was seen before)."""
    now = st.clock.now()
    with st.db.session() as s:
        if not calls.claim_event(s, provider, event_id, now):
            return "duplicate"
        if ev is None:
            return "ignored"
        return calls.handle_event(s, ev, now, route=lambda: decide(s, ev.to or "", now))


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def twilio_event(params: Mapping[str, str], now: dt.datetime) -> tuple[str, CallEvent | None]:
    """The event id and our reading of a Twilio status callback (None: nothing to do, e.g. queued)."""
    sid = params.get("CallSid") or ""
    raw = (params.get("CallStatus") or "").lower()
    seq = params.get("SequenceNumber")
    event_id = f"{sid}:{raw}" + (f":{seq}" if seq else "")
    status = TWILIO_STATUSES.get(raw)
    if not sid or status is None:
        return event_id, None
    at = now
    if params.get("Timestamp"):
        try:
            at = email.utils.parsedate_to_datetime(params["Timestamp"]).astimezone(dt.UTC)
        except (TypeError, ValueError):
            at = now
    direction = "outbound" if (params.get("Direction") or "").startswith("outbound") else "inbound"
    return event_id, CallEvent(
        provider="twilio", call_sid=sid, status=status, at=at, to=params.get("To"), from_=params.get("From"),
        direction=direction, duration=_int(params.get("CallDuration")))


def _iso(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t.astimezone(dt.UTC) if t.tzinfo else t.replace(tzinfo=dt.UTC)


def telnyx_call(data: Mapping[str, Any]) -> tuple[str, str, Mapping[str, Any]]:
    """(event type, call id, payload) of a Telnyx event's ``data``."""
    payload = data.get("payload") or {}
    if not isinstance(payload, dict):
        payload = {}
    call_id = str(payload.get("call_control_id") or payload.get("call_leg_id")
                  or payload.get("call_session_id") or "")
    return str(data.get("event_type") or ""), call_id, payload


def telnyx_event(data: Mapping[str, Any], now: dt.datetime) -> tuple[str, CallEvent | None]:
    """The event id and our reading of a Telnyx call status event (call.answered, call.hangup)."""
    event_type, call_id, p = telnyx_call(data)
    event_id = f"{call_id}:{event_type}"
    if not call_id:
        return str(data.get("id") or event_id), None
    at = _iso(data.get("occurred_at")) or now
    direction = "outbound" if p.get("direction") == "outgoing" else "inbound"
    common: dict[str, Any] = {"provider": "telnyx", "call_sid": call_id, "to": p.get("to"),
                              "from_": p.get("from"), "direction": direction}
    if event_type == "call.answered":
        return event_id, CallEvent(status="in_progress", at=at, answered_at=at, **common)
    if event_type == "call.hangup":
        at = _iso(p.get("end_time")) or at
        cause = str(p.get("hangup_cause") or "")
        return event_id, CallEvent(status="ended", at=at, started_at=_iso(p.get("start_time")),
                                   unanswered_status=TELNYX_UNANSWERED.get(cause, "failed"), **common)
    return event_id, None
