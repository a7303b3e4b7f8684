"""Writes the append-only audit log, in the caller's transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from numberdesk.audit.models import AuditEvent
from numberdesk.auth.context import Ctx
from numberdesk.kit.ids import new_id
from numberdesk.kit.times import rfc3339


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return rfc3339(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    return value


def record(
    ctx: Ctx,
    action: str,
    target_type: str,
    target_id: str | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    return write(ctx.session, account_id=ctx.account_id, actor=ctx.actor, action=action, target_type=target_type,
                 target_id=target_id, before=before, after=after, at=ctx.now(), request_id=ctx.request_id)


def list_events(
    ctx: Ctx, *, target_id: str | None = None, limit: int = 50, cursor: tuple[dt.datetime, str] | None = None
) -> list[AuditEvent]:
    ctx.require("audit.read")
    q = select(AuditEvent).where(AuditEvent.account_id == ctx.account_id)
    if target_id:
        q = q.where(AuditEvent.target_id == target_id)
    if cursor:
        q = q.where((AuditEvent.at < cursor[0]) | ((AuditEvent.at == cursor[0]) & (AuditEvent.id < cursor[1])))
    q = q.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit + 1)
    return list(ctx.session.scalars(q))


def write(session: Session, *, account_id: str | None, actor: str, action: str, target_type: str,
          target_id: str | None, before: dict[str, Any] | None, after: dict[str, Any] | None,
          at: dt.datetime, request_id: str | None = None) -> AuditEvent:
    """An audit row outside any account's context (a deployment-wide system action)."""
    event = AuditEvent(id=new_id("evt"), account_id=account_id, actor=actor, action=action,
                       target_type=target_type, target_id=target_id,
                       before=_jsonable(before) if before is not None else None,
                       after=_jsonable(after) if after is not None else None, request_id=request_id, at=at)
    session.add(event)
    return event
