"""``Idempotency-Key`` for every POST under /v1 (kept 24 h, scoped to the account).

A retry returns the first response; the same key with another body is a 422
``idempotency_key_reused``; while the first is still running, a 409
``idempotency_in_flight``. A first attempt that failed with a 5xx is forgotten,
so it can be retried. Pure ASGI, so it sees the exact bytes sent and returned.

Its database work runs in worker threads (never on the event loop, which must
stay free to finish the requests that hold the locks it waits for), and its
writes take a write slot like every request's transaction does.

A response marked ``Cache-Control: no-store`` (one that shows a secret once, such
as a new API key) is kept sealed with a key derived from the caller's own API key
and the Idempotency-Key: the database never holds the secret, and only the same
caller can have it replayed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from anyio import to_thread
from nacl.exceptions import CryptoError
from nacl.secret import SecretBox
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from numberdesk.accounts.service import authenticate_key
from numberdesk.api.models import IdempotencyRecord
from numberdesk.errors import (
    IdempotencyInFlight,
    IdempotencyKeyReused,
    NumberdeskError,
    ValidationFailed,
)
from numberdesk.runtime import AppState

MAX_KEY = 255
SEALED = "sealed"  # state of a finished record whose response body is sealed


def _box(token: str, key: str) -> SecretBox:
    return SecretBox(hashlib.sha256(b"numberdesk-idempotency\0" + token.encode() + b"\0" + key.encode()).digest())


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
            account_id = await to_thread.run_sync(self._account_of, st, token.strip())
        if account_id is None:  # the endpoint answers 401 itself
            await self.app(scope, replay_receive, send)
            return
        key_s = key.decode(errors="replace")
        if not key_s.strip() or len(key_s) > MAX_KEY:
            await _send(send, *problem_response(ValidationFailed.field(
                "Idempotency-Key", f"must be 1 to {MAX_KEY} characters")))
            return
        digest = hashlib.sha256(scope["path"].encode() + b"\n" + body).hexdigest()
        async with st.db.write_slots():
            outcome = await to_thread.run_sync(self._claim, st, account_id, token.strip(), key_s, digest)
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
            async with st.db.write_slots():
                await to_thread.run_sync(self._finish, st, account_id, token.strip(), key_s, captured)

    @staticmethod
    def _account_of(st: AppState, token: str) -> str | None:
        with st.db.session(write=False) as s:
            k = authenticate_key(s, token)
            return k.account_id if k else None

    def _claim(self, st: AppState, account_id: str, token: str, key: str,
               digest: str) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
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
            if rec.state not in ("done", SEALED):
                return problem_response(IdempotencyInFlight(
                    "The first request with this Idempotency-Key is still running; retry shortly."))
            body = rec.response_body or b""
            if rec.state == SEALED:
                try:
                    body = _box(token, key).decrypt(body)
                except CryptoError:
                    return problem_response(IdempotencyKeyReused(
                        "This Idempotency-Key was used by another API key of this account for a "
                        "response shown only once; use a new key."))
            stored = [(k.encode(), v.encode()) for k, v in json.loads(rec.response_headers or "[]")]
            stored.append((b"idempotent-replayed", b"true"))
            return rec.response_status or 200, stored, body

    def _finish(self, st: AppState, account_id: str, token: str, key: str, captured: dict[str, Any]) -> None:
        with st.db.session() as s:
            rec = s.scalar(select(IdempotencyRecord).where(
                IdempotencyRecord.account_id == account_id, IdempotencyRecord.key == key))
            if rec is None:
                return
            if captured["status"] >= 500:
                s.delete(rec)
                return
            keep = [(k.decode(), v.decode()) for k, v in captured["headers"]
                    if k.lower() in (b"content-type", b"location", b"retry-after", b"cache-control")]
            no_store = any(k.lower() == b"cache-control" and b"no-store" in v.lower()
                           for k, v in captured["headers"])
            rec.state = SEALED if no_store else "done"
            rec.response_status = captured["status"]
            rec.response_headers = json.dumps(keep)
            rec.response_body = _box(token, key).encrypt(captured["body"]) if no_store else captured["body"]


async def _send(send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
