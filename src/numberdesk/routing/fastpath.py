"""The Twilio voice webhook, served ahead of the framework's routing: the hot path.

Every inbound call waits on this answer. Matched before any other route, it skips
the generic request machinery (route matching over every route of the API and the
dashboard, dependency resolution, the middlewares meant for ``/v1``) and does only
what the webhook needs: read the form, check the signature, route and record the
call, answer. The FastAPI route of the same path (``webhook_endpoints``) documents
it and serves it when this middleware is not installed; both call ``voice_answer``.
Measured in ``bench/bench_calls.py`` against a bare FastAPI endpoint.
"""

from __future__ import annotations

import json
import os
from typing import Any

from numberdesk.errors import Forbidden, NumberdeskError
from numberdesk.routing import signatures
from numberdesk.routing.answer import answer_call
from numberdesk.runtime import AppState

VOICE_PATH = "/webhooks/twilio/voice"
MAX_BODY = 64 * 1024  # a Twilio voice request is about 1 KB
XML = b"application/xml"


async def voice_answer(st: AppState, path: str, query: str, body: bytes, signature: str | None,
                       signature_settings: str | None) -> str:
    """Check the signature of a Twilio voice request; route and record the call; the TwiML answer.

    Raises ``Forbidden`` (and records nothing) when the signature does not sign
    exactly this URL and these parameters.
    """
    params = signatures.TwilioParams(signatures.parse_form(body))
    url = signatures.public_url(st.settings, path, query)
    if not signatures.twilio_ok(st.settings, url, params, signature, signature_settings):
        raise Forbidden("The X-Twilio-Signature does not sign this request for this URL.")
    return await answer_call(st, "twilio", params.get("CallSid"), params.get("From"), params.get("To"))


class VoiceFastPath:
    """ASGI middleware: ``POST /webhooks/twilio/voice`` is answered here, everything else passes."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != VOICE_PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        rid = headers.get(b"x-request-id", b"")[:64] or os.urandom(16).hex().encode()
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > MAX_BODY:
                await _send(send, 413, b"application/problem+json", _problem(413, "too_large", "Too large",
                            "The request body is too large for a voice webhook."), rid)
                return
            if not message.get("more_body"):
                break
        st: AppState = scope["app"].state.nd
        sig = headers.get(b"x-twilio-signature")
        sig_settings = headers.get(b"x-twilio-webhooks-signature-settings")
        try:
            answer = await voice_answer(
                st, scope["path"], scope["query_string"].decode("latin-1"), body,
                sig.decode("latin-1") if sig is not None else None,
                sig_settings.decode("latin-1") if sig_settings is not None else None)
        except NumberdeskError as err:
            await _send(send, err.status, b"application/problem+json", json.dumps(err.problem()).encode(), rid)
            return
        await _send(send, 200, XML, answer.encode(), rid)


def _problem(status: int, code: str, title: str, detail: str) -> bytes:
    return json.dumps({"type": f"https://numberdesk.dev/problems/{code}", "title": title, "status": status,
                       "detail": detail, "code": code}).encode()


async def _send(send: Any, status: int, content_type: bytes, body: bytes, request_id: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode()),
                            (b"x-request-id", request_id)]})
    await send({"type": "http.response.body", "body": body})
