"""Routes for call records: batch ingest, lists and CSV export."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from numberdesk.api.deps import ReadCtx, WriteCtx, app_state, principal
from numberdesk.api.problems import problem_responses
from numberdesk.calls import export, service
from numberdesk.calls.schemas import (
    ActiveCallOut,
    CallOut,
    IngestCalls,
    IngestOut,
    call_out,
)
from numberdesk.kit import pagination
from numberdesk.kit.schemas import Page
from numberdesk.kit.times import rfc3339

router = APIRouter(prefix="/v1", tags=["calls"])
ERRORS = problem_responses(401, 403, 404, 422)
TimeParam = Annotated[str | None, Query(max_length=40, description="A date (local midnight) or an RFC 3339 time")]


@router.post("/calls", status_code=201, response_model=IngestOut, responses=ERRORS)
def ingest_calls(body: IngestCalls, ctx: WriteCtx) -> dict[str, object]:
    """Store up to 10,000 finished calls (admin role and up).

    All or nothing: if any record is bad, nothing is stored and the 422 lists every
    bad record by index (`errors[].index`, `errors[].field` such as `calls.3.number`).
    `number` must be one of the account's numbers; a completed call needs
    `answered_at` and `ended_at`, a missed one (`no_answer`, `busy`, `failed`,
    `canceled`) has no `answered_at`.
    """
    return service.ingest(ctx, body.calls)


@router.get("/calls", response_model=Page[CallOut], responses=ERRORS)
def list_calls(
    ctx: ReadCtx,
    number_id: Annotated[str | None, Query(max_length=40)] = None,
    agent_id: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[Literal["completed", "no_answer", "busy", "failed", "canceled"] | None, Query()] = None,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: TimeParam = None,
    limit: Annotated[int, Query(ge=1, le=pagination.MAX_LIMIT)] = pagination.DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> dict[str, object]:
    """Finished calls, newest first; `from` inclusive, `to` exclusive (dates are local midnights)."""
    f = service.call_filter(ctx, number_id=number_id, agent_id=agent_id, start=from_, end=to, status=status)
    rows, next_cursor = service.calls_page(ctx, f, limit=limit, cursor=cursor)
    return {"data": [call_out(c, e164) for c, e164 in rows], "next_cursor": next_cursor}


@router.get("/calls.csv", response_class=StreamingResponse, responses=ERRORS)
def export_calls(
    request: Request,
    ctx: ReadCtx,
    number_id: Annotated[str | None, Query(max_length=40)] = None,
    agent_id: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[Literal["completed", "no_answer", "busy", "failed", "canceled"] | None, Query()] = None,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: TimeParam = None,
) -> StreamingResponse:
    """The same calls as `GET /v1/calls`, every page, as CSV."""
    f = service.call_filter(ctx, number_id=number_id, agent_id=agent_id, start=from_, end=to, status=status)
    if f.number_id:
        service.check_number(ctx, f.number_id)
    ctx.require("read")
    who = principal(request)
    st = app_state(request)

    return export.calls_csv(st, who.account_id, who.actor, who.role, f)


@router.get("/active-calls", response_model=Page[ActiveCallOut], responses=ERRORS)
def list_active_calls(ctx: ReadCtx, number_id: Annotated[str | None, Query(max_length=40)] = None) -> dict[str, object]:
    """Calls ringing or in progress now (a number with one cannot be released)."""
    rows = service.active_calls(ctx, number_id)
    return {"data": [{"number_id": a.number_id, "agent_id": a.agent_id, "provider": a.provider,
                      "call_sid": a.call_sid, "status": a.status, "from": a.from_number, "to": a.to_number,
                      "started_at": rfc3339(a.started_at), "answered_at": rfc3339(a.answered_at)}
                     for a in rows], "next_cursor": None}
