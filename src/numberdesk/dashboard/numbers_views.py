"""Calls → Phone Numbers: the inventory, Add a Number, Assign, Release, Reactivate, the number page.

Every decision is a service call (numbers.service, numbers.release) or a question
to numbers.lifecycle; these views only read the request, call, and render.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from numberdesk import pagination
from numberdesk.accounts import service as accounts
from numberdesk.agents import service as agents
from numberdesk.audit import service as audit
from numberdesk.context import Ctx
from numberdesk.dashboard.common import (
    DashCtx,
    DashReadCtx,
    csrf_guard,
    error_lines,
    is_htmx,
    render,
    span,
)
from numberdesk.errors import NotFound, NumberdeskError, ValidationFailed
from numberdesk.numbers import lifecycle, service
from numberdesk.numbers import release as releases
from numberdesk.numbers.lifecycle import Action, ReleaseReason, Status
from numberdesk.numbers.models import PhoneNumber
from numberdesk.providers.base import SearchQuery
from numberdesk.providers.registry import get_carrier

router = APIRouter(dependencies=[Depends(csrf_guard)], include_in_schema=False)

PAGE_SIZE = 50
TYPES = {"local": "Local", "toll_free": "Toll-free", "mobile": "Mobile"}
STATUSES = [s.value for s in Status]
SORT_LABELS = {
    "-purchased_at": "Newest first", "purchased_at": "Oldest first",
    "phone_number": "Number ↑", "-phone_number": "Number ↓",
    "friendly_name": "Name A\u2013Z", "-friendly_name": "Name Z\u2013A",
    "monthly_price": "Price ↑", "-monthly_price": "Price ↓",
    "status": "Status A\u2013Z", "-status": "Status Z\u2013A",
}
REASONS = {
    ReleaseReason.no_longer_needed: "No longer needed",
    ReleaseReason.cost_reduction: "Cost reduction",
    ReleaseReason.replaced: "Replaced by another number",
    ReleaseReason.spam_reported: "Reported as spam",
    ReleaseReason.other: "Other (say why)",
}
DEFAULT_SORT = "-purchased_at"
FILTER_KEYS = ("status", "type", "assignment", "department", "tag", "q", "sort")


# -- view models ----------------------------------------------------------------------
@dataclass
class Row:
    """One number as the table shows it, with the actions lifecycle allows."""

    n: PhoneNumber
    tags: list[str]
    assignee: str | None
    assignee_type: str | None
    overdue: bool
    returned: bool
    can_assign: bool
    can_release: bool
    can_reactivate: bool

    @property
    def id(self) -> str:
        return self.n.id


def rows_for(ctx: Ctx, numbers: list[PhoneNumber]) -> list[Row]:
    tags = service.tags_of(ctx, [n.id for n in numbers])
    names = service.assignment_names(ctx, numbers)
    now, hours = ctx.now(), ctx.settings.provisioning_overdue_hours
    out = []
    for n in numbers:
        returned = n.returned_at is not None
        assignee_id = n.agent_id or n.pool_id
        out.append(Row(
            n=n, tags=tags[n.id],
            assignee=names.get(assignee_id, assignee_id) if assignee_id else None,
            assignee_type="agent" if n.agent_id else ("pool" if n.pool_id else None),
            overdue=lifecycle.provisioning_overdue(n.status, n.purchased_at, now, hours),
            returned=returned,
            can_assign=not returned and lifecycle.allowed(n.status, Action.assign),
            can_release=not returned and lifecycle.allowed(n.status, Action.release),
            can_reactivate=not returned and lifecycle.allowed(n.status, Action.reactivate),
        ))
    return out


def _summary(ctx: Ctx) -> dict[str, Any]:
    counts = service.count_by_status(ctx)
    return {
        "statuses": STATUSES,
        "counts": {s: counts.get(s, 0) for s in STATUSES},
        "total": sum(counts.values()),
        "cost": service.monthly_cost(ctx),
        "attention": service.attention(ctx),
    }


def _clean_params(raw: dict[str, str]) -> dict[str, str]:
    """The URL's filters without empty values (and without the default sort, which is no filter)."""
    out = {k: v.strip() for k, v in raw.items() if k in (*FILTER_KEYS, "cursor") and v and v.strip()}
    if out.get("sort") == DEFAULT_SORT:
        del out["sort"]
    return out


def _filter_of(params: dict[str, str], errors: list[str]) -> service.NumberFilter:
    f = service.NumberFilter()
    status = params.get("status")
    if status in STATUSES:
        f.status = status
    elif status:
        errors.append(f"Status “{status}” is not one of {', '.join(STATUSES)}; showing every status.")
    typ = params.get("type")
    if typ in TYPES:
        f.type = typ
    elif typ:
        errors.append(f"Type “{typ}” is not one of local, toll_free, mobile; showing every type.")
    assignment = params.get("assignment")
    if assignment == "assigned":
        f.assigned = True
    elif assignment == "unassigned":
        f.assigned = False
    elif assignment and assignment.startswith("agt_"):
        f.agent_id = assignment
    elif assignment and assignment.startswith("pool_"):
        f.pool_id = assignment
    f.department = params.get("department") or None
    f.tag = (params.get("tag") or "").lower() or None
    f.q = params.get("q") or None
    return f


def inventory_context(ctx: Ctx, params: dict[str, str]) -> dict[str, Any]:
    """The table page for these URL parameters (filters, sort, cursor)."""
    params = _clean_params(params)
    errors: list[str] = []
    f = _filter_of(params, errors)
    sort = params.get("sort")
    try:
        key, _ = service.parse_sort(sort)
    except ValidationFailed:
        errors.append(f"Sort “{sort}” is not known; sorted newest first.")
        params.pop("sort", None)
        sort, key = None, "purchased_at"
    after = None
    if params.get("cursor"):
        kind = dt.datetime if key == "purchased_at" else (int if key == "monthly_price" else str)
        try:
            after = pagination.decode(params["cursor"], kinds=(kind, str))
        except ValidationFailed:
            errors.append("That page link is out of date; showing the first page.")
            params.pop("cursor", None)
    numbers = service.list_numbers(ctx, f, sort=sort, limit=PAGE_SIZE, after=after)
    next_cursor = None
    if len(numbers) > PAGE_SIZE:
        numbers = numbers[:PAGE_SIZE]
        next_cursor = pagination.encode(service.sort_value(numbers[-1], sort), numbers[-1].id)
    agent_list = agents.list_agents(ctx, limit=500, after=None)[:500]
    agent_names = {a.id: a.name for a in agent_list}
    chips = []
    labels = {"status": "Status", "type": "Type", "assignment": "Assignment", "department": "Department",
              "tag": "Tag", "q": "Search", "sort": "Sort"}
    for k in FILTER_KEYS:
        if k in params:
            value = params[k]
            shown = {"assigned": "assigned", "unassigned": "not assigned"}.get(value, value)
            if k == "assignment":
                shown = agent_names.get(value, shown)
            elif k == "type":
                shown = TYPES.get(value, value)
            elif k == "sort":
                shown = SORT_LABELS.get(value, value)
            chips.append((labels[k], shown, k))
    return {
        "rows": rows_for(ctx, numbers), "params": params, "filter_params": {k: v for k, v in params.items()
                                                                            if k != "cursor"},
        "chips": chips, "next_cursor": next_cursor, "filter_errors": errors,
        "agents": agent_list, "types": TYPES, "statuses": STATUSES, "sort_labels": SORT_LABELS,
        "current_sort": sort or DEFAULT_SORT,
    }


def _current_params(request: Request) -> dict[str, str]:
    """The inventory filters of the page an HTMX request came from."""
    url = request.headers.get("hx-current-url", "")
    parts = urlsplit(url)
    return dict(parse_qsl(parts.query)) if parts.path == "/" else {}


def _on_inventory(request: Request) -> bool:
    return is_htmx(request) and urlsplit(request.headers.get("hx-current-url", "")).path == "/"


def _done(request: Request, ctx: Ctx, message: str, *, back: str = "/") -> Response:
    """After a change: HTMX on the inventory swaps the table and the cards in place and
    closes the dialog; elsewhere the page reloads; without JavaScript, a redirect."""
    if not is_htmx(request):
        return RedirectResponse(back, status_code=303)
    if _on_inventory(request):
        return render(request, ctx, "numbers/changed.html", message=message,
                      headers={"HX-Trigger": "closeDialog", "HX-Reswap": "none"},
                      **{**inventory_context(ctx, _current_params(request)), **_summary(ctx)})
    return Response(status_code=200, headers={"HX-Refresh": "true"})


def _dialog(request: Request, ctx: Ctx, name: str, *, title: str, status_code: int = 200,
            **context: Any) -> Response:
    """A dialog's content: a fragment for HTMX, a whole page without JavaScript."""
    return render(request, ctx, name if is_htmx(request) else "dialog_page.html", status_code=status_code,
                  dialog_template=name, dialog_title=title, **context)


def _number(ctx: Ctx, number_id: str) -> PhoneNumber:
    return service.get(ctx, number_id)


def _not_found(request: Request, ctx: Ctx, err: NumberdeskError) -> Response:
    return render(request, ctx, "error.html", status_code=err.status, title="Not found",
                  lines=error_lines(err, now=ctx.now(), role=ctx.role))


# -- the inventory --------------------------------------------------------------------
@router.get("/", response_class=HTMLResponse)
def inventory(request: Request, ctx: DashReadCtx) -> Response:
    """Calls → Phone Numbers: summary cards, filters with chips, the table, keyset paging."""
    inv = inventory_context(ctx, dict(request.query_params))
    if is_htmx(request) and request.headers.get("hx-target") == "inventory":
        return render(request, ctx, "numbers/_inventory.html", **inv)
    return render(request, ctx, "numbers/inventory.html", active="numbers", **{**inv, **_summary(ctx)})


@router.get("/numbers/{number_id}/row", response_class=HTMLResponse)
def number_row(request: Request, number_id: str, ctx: DashReadCtx) -> Response:
    """One number's rows (polled while it is pending: it turns active in place)."""
    try:
        n = _number(ctx, number_id)
    except NotFound as err:
        return _not_found(request, ctx, err)
    # Once it is no longer pending the cards' counts changed too: they refresh on this event.
    headers = {"HX-Trigger": "summaryChanged"} if n.status != Status.pending else None
    return render(request, ctx, "numbers/row.html", row=rows_for(ctx, [n])[0], types=TYPES, headers=headers)


@router.get("/numbers/summary", response_class=HTMLResponse)
def summary(request: Request, ctx: DashReadCtx) -> Response:
    """The summary cards (refreshed when a row changes status or the clock moves)."""
    return render(request, ctx, "numbers/_summary.html", **_summary(ctx))


# -- Add a Number ---------------------------------------------------------------------
def _search_params(country: str | None, type: str | None, area_code: str | None, prefix: str | None,
                   contains: str | None, capability: str | None) -> dict[str, str]:
    raw = {"country": country, "type": type, "area_code": area_code, "prefix": prefix,
           "contains": contains, "capability": capability}
    return {k: v.strip() for k, v in raw.items() if v and v.strip()}


def _search(ctx: Ctx, p: dict[str, str]) -> list[Any]:
    errors = []
    if p.get("country") and p["country"] not in ("US", "CA", "GB"):
        errors.append({"field": "country", "detail": "must be US, CA or GB"})
    if p.get("type") and p["type"] not in TYPES:
        errors.append({"field": "type", "detail": "must be local, toll_free or mobile"})
    if p.get("area_code") and not (p["area_code"].isdigit() and len(p["area_code"]) <= 5):
        errors.append({"field": "area_code", "detail": "up to 5 digits, e.g. 415"})
    if p.get("prefix") and not p["prefix"].lstrip("+").isdigit():
        errors.append({"field": "prefix", "detail": "digits, optionally starting with +, e.g. +1415555"})
    if p.get("capability") and p["capability"] not in ("voice", "sms", "mms"):
        errors.append({"field": "capability", "detail": "must be voice, sms or mms"})
    if errors:
        raise ValidationFailed("; ".join(e["detail"] for e in errors), errors)
    query = SearchQuery(country=p.get("country"), type=p.get("type"), area_code=p.get("area_code"),
                        prefix=p.get("prefix"), contains=p.get("contains"),
                        capabilities=frozenset([p["capability"]]) if p.get("capability") else frozenset(),
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
    return _dialog(request, ctx, "numbers/add.html", title="Add a Number", q=p, results=results,
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
    from numberdesk.kit import phone

    e164 = phone.parse(phone_number)
    found = service.search_available(ctx, SearchQuery(prefix=e164, limit=1))
    if not found or found[0].phone_number != e164:
        from numberdesk.errors import NumberUnavailable

        raise NumberUnavailable(f"{phone.national_format(e164)} is no longer for sale.")
    return found[0]


@router.get("/numbers/add/confirm", response_class=HTMLResponse)
def add_confirm(request: Request, ctx: DashReadCtx, phone_number: Annotated[str, Query(max_length=40)],
                back: Annotated[str | None, Query(max_length=500)] = None) -> Response:
    """The confirm step: states the monthly cost before anything is bought."""
    try:
        listing = _listing(ctx, phone_number)
    except NumberdeskError as err:
        return _dialog(request, ctx, "numbers/add.html", title="Add a Number", q={}, results=None,
                       errors=error_lines(err, now=ctx.now(), role=ctx.role), types=TYPES,
                       status_code=err.status)
    return _dialog(request, ctx, "numbers/add_confirm.html", title="Confirm your purchase", listing=listing,
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
        return _dialog(request, ctx, "numbers/add_confirm.html", title="Confirm your purchase",
                       listing=listing, agents=agents.list_agents(ctx, limit=500, after=None)[:500],
                       errors=error_lines(err, now=ctx.now(), role=ctx.role), back=back, status_code=err.status,
                       form={"friendly_name": friendly_name, "agent_id": agent_id, "department": department,
                             "tags": tags}, phone_number=phone_number)
    from numberdesk.kit.phone import national_format

    return _done(request, ctx, f"Bought {national_format(n.phone_number)}: it is pending until the carrier "
                               "has provisioned it.", back=f"/numbers/{n.id}")


# -- Assign -----------------------------------------------------------------------------
@router.get("/numbers/{number_id}/assign", response_class=HTMLResponse)
def assign_dialog(request: Request, number_id: str, ctx: DashReadCtx) -> Response:
    try:
        n = _number(ctx, number_id)
    except NotFound as err:
        return _not_found(request, ctx, err)
    return _dialog(request, ctx, "numbers/assign.html", title="Assign number", row=rows_for(ctx, [n])[0],
                   agents=agents.list_agents(ctx, limit=500, after=None)[:500], errors=[])


@router.post("/numbers/{number_id}/assign", response_class=HTMLResponse)
def assign(request: Request, number_id: str, ctx: DashCtx,
           agent_id: Annotated[str, Form(max_length=40)] = "") -> Response:
    """Assign to an agent, or (empty choice) unassign."""
    try:
        if agent_id:
            n = service.assign(ctx, number_id, agent_id=agent_id)
            message = f"Assigned {n.friendly_name}."
        else:
            n = service.unassign(ctx, number_id)
            message = f"{n.friendly_name} is no longer assigned."
    except NumberdeskError as err:
        ctx.session.rollback()
        try:
            row = rows_for(ctx, [_number(ctx, number_id)])[0]
        except NotFound:
            return _not_found(request, ctx, err)
        return _dialog(request, ctx, "numbers/assign.html", title="Assign number", row=row,
                       agents=agents.list_agents(ctx, limit=500, after=None)[:500],
                       errors=error_lines(err, now=ctx.now(), role=ctx.role), status_code=err.status)
    return _done(request, ctx, message, back=_back(request))


def _back(request: Request) -> str:
    """Where a form without JavaScript returns to: the page it came from, if it is ours."""
    ref = urlsplit(request.headers.get("referer", ""))
    path = ref.path or "/"
    if not path.startswith("/") or path.startswith("//") or path.endswith(("/assign", "/release", "/reactivate")):
        return "/"
    return path + (f"?{ref.query}" if ref.query else "")


# -- Release ------------------------------------------------------------------------------
def _release_context(ctx: Ctx, n: PhoneNumber, **kw: Any) -> dict[str, Any]:
    now = ctx.now()
    return {
        "row": rows_for(ctx, [n])[0], "reasons": REASONS,
        "cooldown_hours": ctx.settings.cooldown_hours, "reclaim_days": ctx.settings.reclaim_days,
        "cooldown_end": lifecycle.cooldown_ends_at(now, ctx.settings.cooldown_hours),
        "deadline": lifecycle.reclaim_deadline(now, ctx.settings.reclaim_days),
        "blockers": releases.release_blockers(ctx, n) if n.status != Status.released else [],
        "errors": [], "form": {}, **kw,
    }


@router.get("/numbers/{number_id}/release", response_class=HTMLResponse)
def release_dialog(request: Request, number_id: str, ctx: DashReadCtx) -> Response:
    """Reason, notes, acknowledgement, and the consequences in one sentence."""
    try:
        n = _number(ctx, number_id)
    except NotFound as err:
        return _not_found(request, ctx, err)
    return _dialog(request, ctx, "numbers/release.html", title="Release number", **_release_context(ctx, n))


@router.post("/numbers/{number_id}/release", response_class=HTMLResponse)
def release(request: Request, number_id: str, ctx: DashCtx,
            reason: Annotated[str, Form(max_length=32)] = "",
            reason_text: Annotated[str, Form(max_length=500)] = "",
            notes: Annotated[str, Form(max_length=5000)] = "",
            acknowledge: Annotated[str, Form(max_length=10)] = "",
            detach_dependencies: Annotated[str, Form(max_length=10)] = "") -> Response:
    try:
        n = releases.release(ctx, number_id, reason=reason, reason_text=reason_text or None, notes=notes or None,
                             acknowledge=acknowledge == "yes", detach_dependencies=detach_dependencies == "yes")
    except NumberdeskError as err:
        ctx.session.rollback()
        try:
            current = _number(ctx, number_id)
        except NotFound:
            return _not_found(request, ctx, err)
        lines = error_lines(err, now=ctx.now(), role=ctx.role)
        form = {"reason": reason, "reason_text": reason_text, "notes": notes,
                "detach_dependencies": detach_dependencies == "yes"}
        return _dialog(request, ctx, "numbers/release.html", title="Release number", status_code=err.status,
                       **_release_context(ctx, current, errors=lines, form=form))
    return _done(request, ctx, f"Released {n.friendly_name}. You can reactivate it after the cooldown, "
                               "until the reclaim deadline.", back=_back(request))


# -- Released numbers: details, countdowns, reactivation -------------------------------------
def _release_details(ctx: Ctx, n: PhoneNumber) -> dict[str, Any]:
    eligibility = releases.reactivation(ctx, n.id)
    expired = n.returned_at is not None or (
        n.reclaim_deadline is not None and not lifecycle.window_open(ctx.now(), n.reclaim_deadline))
    similar = []
    if expired:
        similar = get_carrier(ctx.settings).similar(ctx.session, n.phone_number, ctx.now(),
                                                     exclude=service.taken_numbers(ctx.session))
    return {"row": rows_for(ctx, [n])[0], "eligibility": eligibility, "expired": expired, "similar": similar,
            "reasons": REASONS, "previous": _previous_assignee(ctx, n),
            "actors": accounts.actor_labels(ctx, [n.released_by or ""])}


def _previous_assignee(ctx: Ctx, n: PhoneNumber) -> str | None:
    if n.previous_agent_id:
        try:
            return agents.get(ctx, n.previous_agent_id).name
        except NotFound:
            return None
    return n.previous_pool_id


@router.get("/numbers/{number_id}/release-details", response_class=HTMLResponse)
def release_details(request: Request, number_id: str, ctx: DashReadCtx) -> Response:
    """The chevron's content: release details, eligibility checklist, countdowns."""
    try:
        n = _number(ctx, number_id)
    except NotFound as err:
        return _not_found(request, ctx, err)
    if n.status != Status.released:
        return render(request, ctx, "numbers/release_details.html", row=rows_for(ctx, [n])[0], not_released=True)
    return render(request, ctx, "numbers/release_details.html", not_released=False, **_release_details(ctx, n))


@router.get("/numbers/{number_id}/reactivate", response_class=HTMLResponse)
def reactivate_dialog(request: Request, number_id: str, ctx: DashReadCtx) -> Response:
    try:
        n = _number(ctx, number_id)
    except NotFound as err:
        return _not_found(request, ctx, err)
    if n.status != Status.released:
        return _dialog(request, ctx, "numbers/reactivate.html", title="Reactivate number",
                       row=rows_for(ctx, [n])[0], eligibility=None, previous=None, errors=[])
    return _dialog(request, ctx, "numbers/reactivate.html", title="Reactivate number", errors=[],
                   **_release_details(ctx, n))


@router.post("/numbers/{number_id}/reactivate", response_class=HTMLResponse)
def reactivate(request: Request, number_id: str, ctx: DashCtx,
               restore_assignment: Annotated[str, Form(max_length=10)] = "") -> Response:
    """Reactivate: refused with the reason (and the time, during the cooldown)."""
    try:
        n = releases.reactivate(ctx, number_id, restore_assignment=restore_assignment == "yes")
    except NumberdeskError as err:
        ctx.session.rollback()
        try:
            current = _number(ctx, number_id)
        except NotFound:
            return _not_found(request, ctx, err)
        lines = error_lines(err, now=ctx.now(), role=ctx.role)
        details = _release_details(ctx, current) if current.status == Status.released else {
            "row": rows_for(ctx, [current])[0], "eligibility": None, "previous": None}
        return _dialog(request, ctx, "numbers/reactivate.html", title="Reactivate number", errors=lines,
                       status_code=err.status, **details)
    return _done(request, ctx, f"Reactivated {n.friendly_name}: it is {n.status} again.", back=_back(request))


# -- edit (friendly name, department, tags) ---------------------------------------------------
@router.post("/numbers/{number_id}/edit", response_class=HTMLResponse)
def edit(request: Request, number_id: str, ctx: DashCtx,
         friendly_name: Annotated[str, Form(max_length=200)] = "",
         department: Annotated[str, Form(max_length=100)] = "",
         tags: Annotated[str, Form(max_length=1000)] = "") -> Response:
    try:
        service.update_number(ctx, number_id, {
            "friendly_name": friendly_name, "department": department,
            "tags": [t for t in tags.split(",") if t.strip()]})
    except NumberdeskError as err:
        ctx.session.rollback()
        return _number_page(request, ctx, number_id, edit_errors=error_lines(err, now=ctx.now(), role=ctx.role),
                            status_code=err.status)
    return RedirectResponse(f"/numbers/{number_id}", status_code=303) if not is_htmx(request) else Response(
        headers={"HX-Refresh": "true"})


# -- the number page ------------------------------------------------------------------------------
def _hints(ctx: Ctx, row: Row, fallback: str | None) -> list[dict[str, str]]:
    """The guide's troubleshooting for this number's state."""
    n, now = row.n, ctx.now()
    hints = []
    if n.status == Status.pending:
        taken = now - n.purchased_at
        if row.overdue:
            hints.append({"level": "bad", "title": "Provisioning is overdue: contact support",
                          "text": f"The carrier has been provisioning this number for {span(taken.total_seconds())}, "
                                  f"longer than {ctx.settings.provisioning_overdue_hours} hours. Contact support "
                                  f"and quote {n.id}."})
        else:
            hints.append({"level": "warn", "title": "Still provisioning",
                          "text": f"Bought {span(taken.total_seconds())} ago. Carriers may take 24\u201348 hours to "
                                  "provision a number; it turns active by itself. Calls are not routed until then."})
    if n.status in lifecycle.HELD and not row.assignee:
        where = (f"they go to the account's fallback route ({fallback})" if fallback else
                 "no fallback route is set (Settings), so callers hear that the number is not in service")
        hints.append({"level": "warn", "title": "Not assigned",
                      "text": f"Calls to this number reach no agent: {where}. Assign it to an agent."})
    if n.status == Status.inactive:
        if n.status_reason == "billing":
            hints.append({"level": "bad", "title": "Inactive: billing problem",
                          "text": "The account is past due, so the number does not take calls. Settle the "
                                  "balance; the number returns to active by itself."})
        else:
            hints.append({"level": "bad", "title": "Inactive: configuration problem",
                          "text": "The carrier reports a configuration problem with this number. It returns to "
                                  "active by itself once the carrier's configuration is fixed; contact support if "
                                  "it stays inactive."})
    if n.status == Status.released and not row.returned:
        hints.append({"level": "info", "title": "Released",
                      "text": "The number is in its cooldown and reclaim window. Expand the details to see "
                              "whether it can be reactivated now."})
    if row.returned:
        hints.append({"level": "info", "title": "Reclaim window missed",
                      "text": "The reclaim window has ended and the number went back to the carrier. Contact "
                              "support about an exception, or buy one of the similar numbers below."})
    return hints


def _number_page(request: Request, ctx: Ctx, number_id: str, *, status_code: int = 200,
                 edit_errors: list[str] | None = None) -> Response:
    try:
        n = _number(ctx, number_id)
    except NotFound as err:
        return _not_found(request, ctx, err)
    row = rows_for(ctx, [n])[0]
    events = audit.list_events(ctx, target_id=n.id, limit=100) if _can(ctx, "audit.read") else None
    details = _release_details(ctx, n) if n.status == Status.released else {}
    history = service.history(ctx, n.id)
    actors = accounts.actor_labels(ctx, [h.actor for h in history] + [e.actor for e in events or []]
                                   + [n.released_by or ""])
    return render(request, ctx, "numbers/number.html", status_code=status_code, active="numbers",
                  row=row, n=n, history=history, events=events, actors=actors,
                  hints=_hints(ctx, row, request.state.account.fallback_destination),
                  edit_errors=edit_errors or [], types=TYPES, reasons=REASONS,
                  eligibility=details.get("eligibility"), similar=details.get("similar", []),
                  expired=details.get("expired", False), previous=details.get("previous"))


def _can(ctx: Ctx, permission: str) -> bool:
    from numberdesk.auth.permissions import allowed

    return allowed(ctx.role, permission)


@router.get("/numbers/{number_id}", response_class=HTMLResponse)
def number_page(request: Request, number_id: str, ctx: DashReadCtx) -> Response:
    """A number's details, status history, audit trail and troubleshooting hints."""
    return _number_page(request, ctx, number_id)
