"""Routes for call flows and automations that use numbers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Response

from numberdesk.api.deps import ReadCtx, WriteCtx
from numberdesk.api.problems import problem_responses
from numberdesk.auth.context import Ctx
from numberdesk.automations import service
from numberdesk.automations.models import Automation
from numberdesk.automations.schemas import AutomationOut, CreateAutomation
from numberdesk.kit import pagination
from numberdesk.kit.schemas import Page
from numberdesk.kit.times import rfc3339

router = APIRouter(prefix="/v1/automations", tags=["automations"])
ERRORS = problem_responses(401, 403, 404, 409, 422)


def present(ctx: Ctx, rows: list[Automation]) -> list[dict[str, object]]:
    numbers = service.number_ids_of(ctx, [a.id for a in rows])
    return [{"id": a.id, "name": a.name, "kind": a.kind, "number_ids": numbers[a.id],
             "created_at": rfc3339(a.created_at)} for a in rows]


@router.post("", status_code=201, response_model=AutomationOut, responses=ERRORS)
def create_automation(body: CreateAutomation, ctx: WriteCtx) -> dict[str, object]:
    """Create a call flow or automation that uses numbers (admin, owner). While it uses a
    number, releasing that number is blocked (`has_dependencies`)."""
    a = service.create(ctx, body.name, body.kind, body.number_ids)
    return present(ctx, [a])[0]


@router.get("", response_model=Page[AutomationOut], responses=ERRORS)
def list_automations(
    ctx: ReadCtx,
    number_id: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=pagination.MAX_LIMIT)] = pagination.DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> dict[str, object]:
    """The account's call flows and automations, newest first; `number_id` keeps those using it."""
    after = pagination.decode(cursor, kinds=(dt.datetime, str)) if cursor else None
    rows = service.list_automations(ctx, number_id=number_id, limit=limit, after=after)  # type: ignore[arg-type]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = pagination.encode(rows[-1].created_at, rows[-1].id)
    return {"data": present(ctx, rows), "next_cursor": next_cursor}


@router.delete("/{automation_id}", status_code=204, responses=ERRORS)
def delete_automation(automation_id: str, ctx: WriteCtx) -> Response:
    """Delete a call flow or automation (admin, owner)."""
    service.delete_automation(ctx, automation_id)
    return Response(status_code=204)
