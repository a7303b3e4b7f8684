"""Routes for the append-only audit log (owners and admins)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from numberdesk.api.deps import ReadCtx
from numberdesk.api.problems import problem_responses
from numberdesk.audit import service
from numberdesk.kit import pagination
from numberdesk.kit.schemas import Page
from numberdesk.kit.times import rfc3339

router = APIRouter(prefix="/v1", tags=["audit"])
ERRORS = problem_responses(401, 403, 422)


class AuditEventOut(BaseModel):
    id: str
    actor: str
    action: str
    target_type: str
    target_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None
    at: str


@router.get("/audit-events", response_model=Page[AuditEventOut], responses=ERRORS)
def list_audit_events(
    ctx: ReadCtx,
    target_id: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=pagination.MAX_LIMIT)] = pagination.DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> dict[str, object]:
    """Every change made in the account, newest first (actor, action, target, before/after,
    request id); `target_id` keeps the events of one object."""
    after = pagination.decode(cursor, kinds=(dt.datetime, str)) if cursor else None
    rows = service.list_events(ctx, target_id=target_id, limit=limit, cursor=after)  # type: ignore[arg-type]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = pagination.encode(rows[-1].at, rows[-1].id)
    data = [{"id": e.id, "actor": e.actor, "action": e.action, "target_type": e.target_type,
             "target_id": e.target_id, "before": e.before, "after": e.after, "request_id": e.request_id,
             "at": rfc3339(e.at)} for e in rows]
    return {"data": data, "next_cursor": next_cursor}
