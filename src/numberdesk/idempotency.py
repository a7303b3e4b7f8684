"""``Idempotency-Key`` for every POST under /v1 (kept 24 h, scoped to the account).

A retry returns the first response; the same key with another body is a 422
``idempotency_key_reused``; while the first is still running, a 409
``idempotency_in_flight``. A first attempt that failed with a 5xx is forgotten,
so it can be retried. Pure ASGI, so it sees the exact bytes sent and returned.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from numberdesk.accounts.service import authenticate_key
from numberdesk.errors import IdempotencyInFlight, IdempotencyKeyReused, NumberdeskError, ValidationFailed
from numberdesk.state import AppState
from numberdesk.system.models import IdempotencyRecord

MAX_KEY = 255


def problem_response(err: NumberdeskError) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    body = json.dumps(err.problem()).encode()
    headers = [(b"content-type", b"application/problem+json")]
    headers += [(k.lower().encode(), v.encode()) for k, v in err.headers.items()]
    return err.status, headers, body


class IdempotencyMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        key = headers.get(b"idempotency-key")
        if key is None:
            await self.app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break

        async def replay_receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        st: AppState = scope["app"].state.nd
        auth = headers.get(b"authorization", b"").decode(errors="replace")
        scheme, _, token = auth.partition(" ")
        account_id = None
        if scheme.lower() == "bearer" and token.strip():
            with st.db.session(write=False) as s:
                k = authenticate_key(s, token.strip())
                account_id = k.account_id if k else None
        if account_id is None:  # the endpoint answers 401 itself
            await self.app(scope, replay_receive, send)
            return
        key_s = key.decode(errors="replace")
        if not key_s.strip() or len(key_s) > MAX_KEY:
            await _send(send, *problem_response(ValidationFailed.field(
                "Idempotency-Key", f"must be 1 to {MAX_KEY} characters")))
            return
        digest = hashlib.sha256(scope["path"].encode() + b"\n" + body).hexdigest()
        outcome = self._claim(st, account_id, key_s, digest)
        if outcome is not None:
            await _send(send, *outcome)
            return

        captured: dict[str, Any] = {"status": 500, "headers": [], "body": b""}

        async def capture_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = message.get("headers", [])
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, replay_receive, capture_send)
        finally:
            self._finish(st, account_id, key_s, captured)

    def _claim(self, st: AppState, account_id: str, key: str, digest: str) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        now = st.clock.now()
        horizon = now - dt.timedelta(hours=st.settings.idempotency_hours)
        with st.db.session() as s:
            s.execute(delete(IdempotencyRecord).where(
                IdempotencyRecord.account_id == account_id, IdempotencyRecord.key == key,
                IdempotencyRecord.created_at < horizon))
            try:
                with s.begin_nested():
                    s.add(IdempotencyRecord(account_id=account_id, key=key, request_hash=digest,
                                            state="in_flight", created_at=now))
                return None
            except IntegrityError:
                pass
            rec = s.scalar(select(IdempotencyRecord).where(
                IdempotencyRecord.account_id == account_id, IdempotencyRecord.key == key))
            if rec is None:  # deleted between our insert and read: treat as in flight
                return problem_response(IdempotencyInFlight("Retry in a moment."))
            if rec.request_hash != digest:
                return problem_response(IdempotencyKeyReused(
                    "This Idempotency-Key was used with a different request; use a new key."))
            if rec.state != "done":
                return problem_response(IdempotencyInFlight(
                    "The first request with this Idempotency-Key is still running; retry shortly."))
            stored = [(k.encode(), v.encode()) for k, v in json.loads(rec.response_headers or "[]")]
            stored.append((b"idempotent-replayed", b"true"))
            return rec.response_status or 200, stored, rec.response_body or b""

    def _finish(self, st: AppState, account_id: str, key: str, captured: dict[str, Any]) -> None:
        with st.db.session() as s:
            rec = s.scalar(select(IdempotencyRecord).where(
                IdempotencyRecord.account_id == account_id, IdempotencyRecord.key == key))
            if rec is None:
                return
            if captured["status"] >= 500:
                s.delete(rec)
                return
            keep = [(k.decode(), v.decode()) for k, v in captured["headers"]
                    if k.lower() in (b"content-type", b"location", b"retry-after")]
            rec.state = "done"
            rec.response_status = captured["status"]
            rec.response_headers = json.dumps(keep)
            rec.response_body = captured["body"]


async def _send(send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
