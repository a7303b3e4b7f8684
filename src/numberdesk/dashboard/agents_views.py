"""Agents: create, edit and delete agents and their destinations (agents.service)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from numberdesk.agents import service as agents
from numberdesk.agents.models import AGENT_KINDS
from numberdesk.auth.context import Ctx
from numberdesk.dashboard.common import (
    DashCtx,
    DashReadCtx,
    csrf_guard,
    error_lines,
    is_htmx,
    render,
)
from numberdesk.errors import NotFound, NumberdeskError

router = APIRouter(dependencies=[Depends(csrf_guard)], include_in_schema=False)

KINDS = {"ai_agent": "AI agent", "team_member": "Team member", "service": "Service (IVR, queue…)"}
assert set(KINDS) == set(AGENT_KINDS)


def _page(request: Request, ctx: Ctx, *, status_code: int = 200, errors: list[str] | None = None,
          form: dict[str, str] | None = None, editing: str | None = None,
          row_errors: dict[str, list[str]] | None = None) -> Response:
    rows = agents.list_agents(ctx, limit=500, after=None)[:500]
    counts = agents.number_counts(ctx, [a.id for a in rows])
    return render(request, ctx, "agents/agents.html", status_code=status_code, active="agents", agents=rows,
                  counts=counts, kinds=KINDS, errors=errors or [], form=form or {}, editing=editing,
                  row_errors=row_errors or {})


def _ok(request: Request) -> Response:
    if is_htmx(request):
        return Response(headers={"HX-Refresh": "true"})
    return RedirectResponse("/agents", status_code=303)


@router.get("/agents", response_class=HTMLResponse)
def agents_page(request: Request, ctx: DashReadCtx, edit: str | None = None) -> Response:
    """Every agent with its destination and how many numbers it has."""
    return _page(request, ctx, editing=edit)


@router.post("/agents", response_class=HTMLResponse)
def create_agent(request: Request, ctx: DashCtx, name: Annotated[str, Form(max_length=200)] = "",
                 kind: Annotated[str, Form(max_length=20)] = "ai_agent",
                 destination: Annotated[str, Form(max_length=500)] = "") -> Response:
    try:
        agents.create(ctx, name, kind, destination)
    except NumberdeskError as err:
        ctx.session.rollback()
        return _page(request, ctx, status_code=err.status, errors=error_lines(err, role=ctx.role),
                     form={"name": name, "kind": kind, "destination": destination})
    return _ok(request)


@router.post("/agents/{agent_id}", response_class=HTMLResponse)
def update_agent(request: Request, agent_id: str, ctx: DashCtx, name: Annotated[str, Form(max_length=200)] = "",
                 kind: Annotated[str, Form(max_length=20)] = "",
                 destination: Annotated[str, Form(max_length=500)] = "") -> Response:
    try:
        agents.update(ctx, agent_id, {"name": name, "kind": kind, "destination": destination})
    except NumberdeskError as err:
        ctx.session.rollback()
        return _page(request, ctx, status_code=err.status, editing=agent_id,
                     row_errors={agent_id: error_lines(err, role=ctx.role)})
    return _ok(request)


@router.post("/agents/{agent_id}/delete", response_class=HTMLResponse)
def delete_agent(request: Request, agent_id: str, ctx: DashCtx) -> Response:
    """Delete an agent; refused (with its numbers listed) while it still has numbers."""
    try:
        agents.delete(ctx, agent_id)
    except NumberdeskError as err:
        ctx.session.rollback()
        if isinstance(err, NotFound):
            return _page(request, ctx, status_code=404, errors=error_lines(err, role=ctx.role))
        return _page(request, ctx, status_code=err.status, row_errors={agent_id: error_lines(err, role=ctx.role)})
    return _ok(request)
