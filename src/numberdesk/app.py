"""create_app(): routers, dashboard, problem+json handlers, the in-process worker."""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

import numberdesk.tasks  # noqa: F401  (registers every sweep: the in-process worker and the sandbox clock run them)
from numberdesk import __version__
from numberdesk.accounts.endpoints import router as accounts
from numberdesk.agents.endpoints import router as agents
from numberdesk.analytics.endpoints import router as analytics
from numberdesk.api.idempotency import IdempotencyMiddleware
from numberdesk.audit.endpoints import router as audit
from numberdesk.automations.endpoints import router as automations
from numberdesk.billing.endpoints import router as billing
from numberdesk.calls.endpoints import router as calls
from numberdesk.config import Settings, get_settings
from numberdesk.dashboard import mount_static
from numberdesk.dashboard.analytics import router as dashboard_analytics
from numberdesk.dashboard.billing import router as dashboard_billing
from numberdesk.dashboard.troubleshoot import router as dashboard_troubleshoot
from numberdesk.dashboard.views import router as dashboard
from numberdesk.errors import NumberdeskError, ValidationFailed
from numberdesk.numbers.endpoints import router as numbers
from numberdesk.numbers.manage_endpoints import router as manage
from numberdesk.numbers.release_endpoints import router as release
from numberdesk.pools.endpoints import router as pools
from numberdesk.providers.sandbox.endpoints import router as sandbox
from numberdesk.routing.endpoints import router as routing
from numberdesk.routing.fastpath import VoiceFastPath
from numberdesk.runtime import AppState
from numberdesk.troubleshoot.endpoints import router as troubleshoot
from numberdesk.worker.runner import WorkerThread

log = logging.getLogger("numberdesk")

# Every router, in the order their paths are matched (and listed in the OpenAPI document).
ROUTERS = (accounts, agents, numbers, sandbox, release, troubleshoot, manage, automations, audit, calls,
           analytics, routing, billing, pools, dashboard_analytics, dashboard_billing, dashboard_troubleshoot,
           dashboard)

PROBLEM = "application/problem+json"
_HTTP_CODES = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
               413: "too_large", 429: "rate_limited"}


class RequestIdMiddleware:
    """Gives each request an id (or keeps the caller's ``X-Request-Id``) for logs and audit."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = dict(scope["headers"]).get(b"x-request-id", b"").decode(errors="replace")[:64]
        rid = rid or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", rid.encode()))
            await send(message)

        await self.app(scope, receive, send_with_id)


class NulGuardMiddleware:
    """A NUL character in the path or query string is a 422, on every backend.

    PostgreSQL cannot hold NUL in text, so without this such a request would fail
    in the database (a 500) there and quietly work on SQLite.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and ("\x00" in scope["path"] or b"%00" in scope["query_string"]
                                        or b"\x00" in scope["query_string"]):
            response = problem(ValidationFailed("The URL holds a NUL character (%00).",
                                                [{"field": "url", "detail": "must not contain NUL characters"}]))
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def problem(err: NumberdeskError) -> JSONResponse:
    return JSONResponse(err.problem(), status_code=err.status, media_type=PROBLEM, headers=err.headers)


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NumberdeskError)
    async def _nd(_: Request, exc: NumberdeskError) -> JSONResponse:
        return problem(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for e in exc.errors():
            msg = e.get("msg", "invalid")
            if e.get("type") == "extra_forbidden":
                msg = "is not a known field"
            elif e.get("type") == "json_invalid":
                msg = "the body is not valid JSON"
            errors.append({"field": _field_name(tuple(e.get("loc", ()))), "detail": msg})
        detail = "; ".join(f"{x['field']}: {x['detail']}" for x in errors) or "invalid request"
        return problem(ValidationFailed(detail, errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        body = {"type": f"https://numberdesk.dev/problems/{code}", "title": str(exc.detail),
                "status": exc.status_code, "detail": str(exc.detail), "code": code}
        return JSONResponse(body, status_code=exc.status_code, media_type=PROBLEM,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        body = {"type": "https://numberdesk.dev/problems/internal", "title": "Internal error", "status": 500,
                "detail": "Something went wrong on our side; nothing was changed. The request id is in "
                          "the X-Request-Id header.", "code": "internal_error"}
        return JSONResponse(body, status_code=500, media_type=PROBLEM)


def create_app(settings: Settings | None = None, *, run_worker: bool = False) -> FastAPI:
    settings = settings or get_settings()
    state = AppState.from_settings(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = None
        if run_worker:
            worker = WorkerThread(state.db, state.clock, state.settings)
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
                worker.join(timeout=10)
            state.db.dispose()

    app = FastAPI(
        title="numberdesk",
        version=__version__,
        description="Buy, assign, route, release and reclaim the phone numbers of your AI voice agents.",
        lifespan=lifespan,
    )
    app.state.nd = state
    install_error_handlers(app)
    mount_static(app)

    for router in ROUTERS:
        app.include_router(router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(NulGuardMiddleware)
    app.add_middleware(RequestIdMiddleware)
    # Outermost: every inbound call waits on the Twilio voice webhook, served here ahead of routing.
    app.add_middleware(VoiceFastPath)
    return app


def json_dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
