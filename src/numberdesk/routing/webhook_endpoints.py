"""Carrier webhooks: Twilio (voice, status callbacks) and Telnyx (call events).

They carry no API key: a request is trusted only when its signature checks out
against the public URL and the carrier secret in the settings; anything else is a
403 and nothing is recorded. The Twilio voice webhook is normally answered by
``routing.fastpath`` ahead of routing; its route here documents it.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from numberdesk.api.deps import app_state
from numberdesk.api.problems import problem_responses
from numberdesk.errors import Forbidden, ValidationFailed
from numberdesk.routing import signatures, webhooks
from numberdesk.routing.answer import answer_call
from numberdesk.routing.fastpath import voice_answer
from numberdesk.runtime import AppState

router = APIRouter(tags=["carrier webhooks"])
XML = "application/xml"
WEBHOOK_ERRORS = problem_responses(403, 422)


def _signed_url(st: AppState, request: Request) -> str:
    scope = request.scope
    return signatures.public_url(st.settings, scope["path"], scope["query_string"].decode("latin-1"))


async def _twilio_params(request: Request, st: AppState) -> signatures.TwilioParams:
    params = signatures.TwilioParams(signatures.parse_form(await request.body()))
    headers = request.headers
    if not signatures.twilio_ok(
            st.settings, _signed_url(st, request), params, headers.get("x-twilio-signature"),
            headers.get("x-twilio-webhooks-signature-settings")):
        raise Forbidden("The X-Twilio-Signature does not sign this request for this URL.")
    return params


@router.post("/webhooks/twilio/voice", response_class=Response,
             responses={200: {"content": {XML: {}}, "description": "TwiML"}, **WEBHOOK_ERRORS})
async def twilio_voice(request: Request) -> Response:
    """Twilio's voice webhook: answers with TwiML that connects the caller to the number's route.

    SIP destinations are dialled with `<Dial><Sip>`, phone numbers with
    `<Dial><Number>`, AI agents' `wss://` streams with `<Connect><Stream>`; a number
    that routes no calls answers `<Say>` not in service, then `<Hangup/>`. The call
    is recorded as ringing before the answer is sent.
    """
    st = app_state(request)
    headers = request.headers
    answer = await voice_answer(st, request.scope["path"], request.scope["query_string"].decode("latin-1"),
                                await request.body(), headers.get("x-twilio-signature"),
                                headers.get("x-twilio-webhooks-signature-settings"))
    return Response(answer, media_type=XML)


@router.post("/webhooks/twilio/status", status_code=204,
             response_class=Response, responses=WEBHOOK_ERRORS)
async def twilio_status(request: Request) -> Response:
    """Twilio's call status callback (ringing, in-progress, completed, busy, no-answer, failed, canceled).

    Stored once per `CallSid` + `CallStatus` (+ `SequenceNumber`): a repeated or
    late event changes nothing, and a call that ended never comes back as in progress.
    """
    st = app_state(request)
    p = await _twilio_params(request, st)
    event_id, ev = webhooks.twilio_event(p, st.clock.now())
    async with st.db.write_slots():
        await run_in_threadpool(webhooks.status_event, st, "twilio", event_id, ev)
    return Response(status_code=204)


@router.post("/webhooks/telnyx", response_class=Response,
             responses={200: {"content": {XML: {}}, "description": "TeXML for call.initiated"},
                        204: {"description": "Status event applied"}, **WEBHOOK_ERRORS})
async def telnyx_webhook(request: Request) -> Response:
    """Telnyx call events, signed with ed25519 (`telnyx-signature-ed25519`, `telnyx-timestamp`).

    `call.initiated` of an incoming call is answered with TeXML for the number's
    route; `call.answered` and `call.hangup` update the calls in progress and
    become call records. Timestamps more than 300 s from now are refused.
    """
    st = app_state(request)
    body = await request.body()
    problem = signatures.telnyx_problem(st.settings, body, request.headers.get("telnyx-signature-ed25519"),
                                        request.headers.get("telnyx-timestamp"), st.clock.now())
    if problem:
        raise Forbidden(problem)
    try:
        envelope = json.loads(body)
        data = envelope["data"]
        if not isinstance(data, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise ValidationFailed.field("data", "the body must be a Telnyx event: {\"data\": {...}}") from None
    event_type, call_id, payload = webhooks.telnyx_call(data)
    if event_type == "call.initiated":
        if payload.get("direction", "incoming") != "incoming":
            return Response(status_code=204)
        answer = await answer_call(st, "telnyx", call_id or None, payload.get("from"), payload.get("to"))
        return Response(answer, media_type=XML)
    event_id, ev = webhooks.telnyx_event(data, st.clock.now())
    async with st.db.write_slots():
        await run_in_threadpool(webhooks.status_event, st, "telnyx", event_id, ev)
    return Response(status_code=204)
