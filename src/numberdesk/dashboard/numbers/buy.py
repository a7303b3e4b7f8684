"""Add a Number: search the carrier, confirm the monthly cost, buy."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from numberdesk.agents import service as agents
from numberdesk.auth.context import Ctx
from numberdesk.dashboard.common import DashCtx, DashReadCtx, csrf_guard, error_lines, render
from numberdesk.dashboard.numbers.inventory import TYPES, dialog, done
from numberdesk.errors import NumberdeskError
from numberdesk.kit.phone import national_format
from numberdesk.numbers import service

router = APIRouter(dependencies=[Depends(csrf_guard)], include_in_schema=False)


def _search_params(country: str | None, type: str | None, area_code: str | None, prefix: str | None,
                   contains: str | None, capability: str | None) -> dict[str, str]:
    raw = {"country": country, "type": type, "area_code": area_code, "prefix": prefix,
           "contains": contains, "capability": capability}
    return {k: v.strip() for k, v in raw.items() if v and v.strip()}


def _search(ctx: Ctx, p: dict[str, str]) -> list[Any]:
    query = service.search_query(
        country=p.get("country"), type=p.get("type"), area_code=p.get("area_code"), prefix=p.get("prefix"),
        contains=p.get("contains"), capabilities=frozenset([p["capability"]]) if p.get("capability") else frozenset(),
        limit=20)
    return service.search_available(ctx, query)


@router.get("/numbers/add", response_class=HTMLResponse)
def add_number(request: Request, ctx: DashReadCtx, country: str | None = None, type: str | None = None,
               area_code: str | None = None, prefix: str | None = None, contains: str | None = None,
               capability: str | None = None) -> Response:
    """The Add a Number dialog: search form (and results, when searched without JavaScript)."""
    p = _search_params(country, type, area_code, prefix, contains, capability)
    results, errors = None, []
    if p:
        try:
            results = _search(ctx, p)
        except NumberdeskError as err:
            errors = error_lines(err, now=ctx.now(), role=ctx.role)
    return dialog(request, ctx, "numbers/add.html", title="Add a Number", q=p, results=results,
                   errors=errors, types=TYPES)


@router.get("/numbers/add/results", response_class=HTMLResponse)
def add_results(request: Request, ctx: DashReadCtx, country: str | None = None, type: str | None = None,
                area_code: str | None = None, prefix: str | None = None, contains: str | None = None,
                capability: str | None = None) -> Response:
    """Available numbers with their monthly price and capabilities."""
    p = _search_params(country, type, area_code, prefix, contains, capability)
    try:
        results = _search(ctx, p)
    except NumberdeskError as err:
        return render(request, ctx, "numbers/add_results.html", results=[], q=p,
                      errors=error_lines(err, now=ctx.now(), role=ctx.role), status_code=err.status)
    return render(request, ctx, "numbers/add_results.html", results=results, q=p, errors=[])


def _listing(ctx: Ctx, phone_number: str) -> Any:
    return service.listing_of(ctx, phone_number)


@router.get("/numbers/add/confirm", response_class=HTMLResponse)
def add_confirm(request: Request, ctx: DashReadCtx, phone_number: Annotated[str, Query(max_length=40)],
                back: Annotated[str | None, Query(max_length=500)] = None) -> Response:
    """The confirm step: states the monthly cost before anything is bought."""
    try:
        listing = _listing(ctx, phone_number)
    except NumberdeskError as err:
        return dialog(request, ctx, "numbers/add.html", title="Add a Number", q={}, results=None,
                       errors=error_lines(err, now=ctx.now(), role=ctx.role), types=TYPES,
                       status_code=err.status)
    return dialog(request, ctx, "numbers/add_confirm.html", title="Confirm your purchase", listing=listing,
                   agents=agents.list_agents(ctx, limit=500, after=None)[:500], errors=[], back=back or "",
                   form={})


@router.post("/numbers", response_class=HTMLResponse)
def buy(request: Request, ctx: DashCtx, phone_number: Annotated[str, Form(max_length=40)],
        friendly_name: Annotated[str, Form(max_length=200)] = "",
        agent_id: Annotated[str, Form(max_length=40)] = "",
        department: Annotated[str, Form(max_length=100)] = "",
        tags: Annotated[str, Form(max_length=1000)] = "",
        back: Annotated[str, Form(max_length=500)] = "") -> Response:
    """Buy the number: it starts pending and turns active once provisioned."""
    try:
        n = service.purchase(ctx, phone_number, friendly_name=friendly_name or None, agent_id=agent_id or None,
                             tags=[t for t in tags.split(",") if t.strip()] or None,
                             department=department or None)
    except NumberdeskError as err:
        ctx.session.rollback()
        try:
            listing = _listing(ctx, phone_number)
        except NumberdeskError:
            listing = None
        return dialog(request, ctx, "numbers/add_confirm.html", title="Confirm your purchase",
                       listing=listing, agents=agents.list_agents(ctx, limit=500, after=None)[:500],
                       errors=error_lines(err, now=ctx.now(), role=ctx.role), back=back, status_code=err.status,
                       form={"friendly_name": friendly_name, "agent_id": agent_id, "department": department,
                             "tags": tags}, phone_number=phone_number)
    return done(request, ctx, f"Bought {national_format(n.phone_number)}: it is pending until the carrier "
                               "has provisioned it.", back=f"/numbers/{n.id}")


