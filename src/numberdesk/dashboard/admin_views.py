"""Audit log, Settings (account, API keys, people) and the sandbox clock control."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from numberdesk.accounts import service as accounts
from numberdesk.accounts.models import ROLES
from numberdesk.api.deps import app_state
from numberdesk.audit import service as audit
from numberdesk.auth.context import Ctx
from numberdesk.auth.permissions import allowed
from numberdesk.dashboard.common import (
    DashCtx,
    DashReadCtx,
    csrf_guard,
    error_lines,
    is_htmx,
    referer_path,
    render,
)
from numberdesk.errors import NumberdeskError, ValidationFailed
from numberdesk.kit import pagination
from numberdesk.providers.sandbox.controls import advance

router = APIRouter(dependencies=[Depends(csrf_guard)], include_in_schema=False)

_TIMEZONES = sorted(zoneinfo.available_timezones())


# -- audit log -------------------------------------------------------------------------
@router.get("/audit", response_class=HTMLResponse)
def audit_log(request: Request, ctx: DashReadCtx, target: str | None = None, cursor: str | None = None) -> Response:
    """Every change in the account, newest first (admins)."""
    errors: list[str] = []
    after = None
    if cursor:
        try:
            after = pagination.decode(cursor, kinds=(dt.datetime, str))
        except ValidationFailed:
            errors.append("That page link is out of date; showing the newest events.")
    try:
        events = audit.list_events(ctx, target_id=(target or None), limit=50, cursor=after)
    except NumberdeskError as err:
        return render(request, ctx, "error.html", status_code=err.status, title="Audit log", active="audit",
                      lines=error_lines(err, role=ctx.role))
    next_cursor = None
    if len(events) > 50:
        events = events[:50]
        next_cursor = pagination.encode(events[-1].at, events[-1].id)
    return render(request, ctx, "admin/audit.html", active="audit", events=events, target=target or "",
                  actors=accounts.actor_labels(ctx, [e.actor for e in events]),
                  next_cursor=next_cursor, errors=errors)


# -- settings -------------------------------------------------------------------------------
def _settings_page(request: Request, ctx: Ctx, *, status_code: int = 200, errors: list[str] | None = None,
                   key_errors: list[str] | None = None, new_key: dict[str, str] | None = None,
                   user_errors: list[str] | None = None, new_user: dict[str, str] | None = None,
                   form: dict[str, str] | None = None) -> Response:
    keys = accounts.list_keys(ctx) if allowed(ctx.role, "keys.manage") else None
    users = accounts.list_users(ctx) if allowed(ctx.role, "users.manage") else None
    return render(request, ctx, "admin/settings.html", status_code=status_code, active="settings",
                  errors=errors or [], key_errors=key_errors or [], new_key=new_key, keys=keys, users=users,
                  user_errors=user_errors or [], new_user=new_user, form=form, timezones=_TIMEZONES,
                  roles=ROLES)


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, ctx: DashReadCtx) -> Response:
    """Time zone, naming template, fallback route; API keys and people (owners)."""
    return _settings_page(request, ctx)


@router.post("/settings", response_class=HTMLResponse)
def save_settings(request: Request, ctx: DashCtx, timezone: Annotated[str, Form(max_length=64)] = "UTC",
                  naming_template: Annotated[str, Form(max_length=200)] = "",
                  fallback_destination: Annotated[str, Form(max_length=500)] = "") -> Response:
    try:
        accounts.update_settings(ctx, timezone=timezone, naming_template=naming_template.strip() or None,
                                 fallback_destination=fallback_destination.strip() or None,
                                 fields={"timezone", "naming_template", "fallback_destination"})
    except NumberdeskError as err:
        ctx.session.rollback()
        return _settings_page(request, ctx, status_code=err.status, errors=error_lines(err, role=ctx.role),
                              form={"timezone": timezone, "naming_template": naming_template,
                                    "fallback_destination": fallback_destination})
    return RedirectResponse("/settings?saved=1", status_code=303)


@router.post("/settings/keys", response_class=HTMLResponse)
def create_key(request: Request, ctx: DashCtx, name: Annotated[str, Form(max_length=200)] = "",
               role: Annotated[str, Form(max_length=16)] = "viewer") -> Response:
    """Create an API key; its secret is shown once, on this response only."""
    try:
        if not name.strip():
            raise ValidationFailed.field("name", "give the key a name, e.g. “CI deploys”")
        secret, key = accounts.create_key(ctx, name.strip(), role)
    except NumberdeskError as err:
        ctx.session.rollback()
        return _settings_page(request, ctx, status_code=err.status, key_errors=error_lines(err, role=ctx.role))
    return _settings_page(request, ctx, status_code=201,
                          new_key={"id": key.id, "name": key.name, "role": key.role, "secret": secret})


@router.post("/settings/keys/{key_id}/revoke", response_class=HTMLResponse)
def revoke_key(request: Request, key_id: str, ctx: DashCtx) -> Response:
    try:
        accounts.revoke_key(ctx, key_id)
    except NumberdeskError as err:
        ctx.session.rollback()
        return _settings_page(request, ctx, status_code=err.status, key_errors=error_lines(err, role=ctx.role))
    return RedirectResponse("/settings#api-keys", status_code=303)


@router.post("/settings/users", response_class=HTMLResponse)
def create_user(request: Request, ctx: DashCtx, email: Annotated[str, Form(max_length=320)] = "",
                role: Annotated[str, Form(max_length=16)] = "viewer") -> Response:
    """Give a person a sign-in; the generated password is shown once."""
    try:
        user, password = accounts.create_user(ctx, email, role)
    except NumberdeskError as err:
        ctx.session.rollback()
        return _settings_page(request, ctx, status_code=err.status, user_errors=error_lines(err, role=ctx.role))
    return _settings_page(request, ctx, status_code=201,
                          new_user={"email": user.email, "role": user.role, "password": password})


# -- the sandbox clock -----------------------------------------------------------------------
@router.post("/sandbox/advance", response_class=HTMLResponse)
def advance_clock(request: Request, ctx: DashReadCtx, seconds: Annotated[int, Form(ge=1, le=5 * 366 * 86400)] = 3600,
                  ) -> Response:
    """Move the sandbox clock forward (owners); every change that became due runs first.

    A read context on purpose: the sweeps run in their own transactions, and on
    SQLite a write transaction held here would wait on them.
    """
    try:
        advance(ctx, app_state(request), seconds)
    except NumberdeskError as err:
        return render(request, ctx, "admin/clock.html", status_code=err.status,
                      clock_errors=error_lines(err, role=ctx.role))
    if not is_htmx(request):
        return RedirectResponse(referer_path(request), status_code=303)
    # Every countdown and pending row on the page listens for this and refreshes itself.
    return render(request, ctx, "admin/clock.html", headers={"HX-Trigger": "clockMoved"})
