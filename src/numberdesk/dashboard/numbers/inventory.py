"""Calls → Phone Numbers: the inventory table, its filters and summary cards, and what
the number dialogs share (rows, dialogs, "done"). Views read the request, call one
service, render; ``numbers.lifecycle`` decides what each row offers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from numberdesk.agents import service as agents
from numberdesk.auth.context import Ctx
from numberdesk.dashboard.common import DashReadCtx, csrf_guard, error_lines, is_htmx, render
from numberdesk.errors import NotFound, NumberdeskError, ValidationFailed
from numberdesk.numbers import lifecycle, service
from numberdesk.numbers.lifecycle import Action, ReleaseReason, Status
from numberdesk.numbers.models import PhoneNumber

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
            can_assign=lifecycle.can(n.status, Action.assign, returned=returned),
            can_release=lifecycle.can(n.status, Action.release, returned=returned),
            can_reactivate=lifecycle.can(n.status, Action.reactivate, returned=returned),
        ))
    return out


def summary_context(ctx: Ctx) -> dict[str, Any]:
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
    while True:
        try:
            numbers, next_cursor = service.list_page(ctx, f, sort=sort, limit=PAGE_SIZE,
                                                     cursor=params.get("cursor"))
            break
        except ValidationFailed as err:
            field = (err.extra.get("errors") or [{}])[0].get("field")
            if field == "sort" and "sort" in params:
                errors.append(f"Sort “{sort}” is not known; sorted newest first.")
                params.pop("sort", None)
                sort = None
            elif field == "cursor" and "cursor" in params:
                errors.append("That page link is out of date; showing the first page.")
                params.pop("cursor", None)
            else:
                raise
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


def current_params(request: Request) -> dict[str, str]:
    """The inventory filters of the page an HTMX request came from."""
    url = request.headers.get("hx-current-url", "")
    parts = urlsplit(url)
    return dict(parse_qsl(parts.query)) if parts.path == "/" else {}


def on_inventory(request: Request) -> bool:
    return is_htmx(request) and urlsplit(request.headers.get("hx-current-url", "")).path == "/"


def done(request: Request, ctx: Ctx, message: str, *, back: str = "/") -> Response:
    """After a change: HTMX on the inventory swaps the table and the cards in place and
    closes the dialog; elsewhere the page reloads; without JavaScript, a redirect."""
    if not is_htmx(request):
        return RedirectResponse(back, status_code=303)
    if on_inventory(request):
        return render(request, ctx, "numbers/changed.html", message=message,
                      headers={"HX-Trigger": "closeDialog", "HX-Reswap": "none"},
                      **{**inventory_context(ctx, current_params(request)), **summary_context(ctx)})
    return Response(status_code=200, headers={"HX-Refresh": "true"})


def dialog(request: Request, ctx: Ctx, name: str, *, title: str, status_code: int = 200,
            **context: Any) -> Response:
    """A dialog's content: a fragment for HTMX, a whole page without JavaScript."""
    return render(request, ctx, name if is_htmx(request) else "dialog_page.html", status_code=status_code,
                  dialog_template=name, dialog_title=title, **context)


def number(ctx: Ctx, number_id: str) -> PhoneNumber:
    return service.get(ctx, number_id)


def not_found(request: Request, ctx: Ctx, err: NumberdeskError) -> Response:
    return render(request, ctx, "error.html", status_code=err.status, title="Not found",
                  lines=error_lines(err, now=ctx.now(), role=ctx.role))


# -- the inventory --------------------------------------------------------------------
@router.get("/", response_class=HTMLResponse)
def inventory(request: Request, ctx: DashReadCtx) -> Response:
    """Calls → Phone Numbers: summary cards, filters with chips, the table, keyset paging."""
    inv = inventory_context(ctx, dict(request.query_params))
    if is_htmx(request) and request.headers.get("hx-target") == "inventory":
        return render(request, ctx, "numbers/_inventory.html", **inv)
    return render(request, ctx, "numbers/inventory.html", active="numbers", **{**inv, **summary_context(ctx)})


@router.get("/numbers/{number_id}/row", response_class=HTMLResponse)
def number_row(request: Request, number_id: str, ctx: DashReadCtx) -> Response:
    """One number's rows (polled while it is pending: it turns active in place)."""
    try:
        n = number(ctx, number_id)
    except NotFound as err:
        return not_found(request, ctx, err)
    # Once it is no longer pending the cards' counts changed too: they refresh on this event.
    headers = {"HX-Trigger": "summaryChanged"} if n.status != Status.pending else None
    return render(request, ctx, "numbers/row.html", row=rows_for(ctx, [n])[0], types=TYPES, headers=headers)


@router.get("/numbers/summary", response_class=HTMLResponse)
def summary(request: Request, ctx: DashReadCtx) -> Response:
    """The summary cards (refreshed when a row changes status or the clock moves)."""
    return render(request, ctx, "numbers/_summary.html", **summary_context(ctx))
