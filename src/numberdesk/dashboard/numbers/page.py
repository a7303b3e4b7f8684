"""A number's page: details, status history, audit trail, edits, and the troubleshooting hints
(the failing checks of ``troubleshoot.diagnose``, as the Troubleshoot panel shows them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from numberdesk.accounts import service as accounts
from numberdesk.audit import service as audit
from numberdesk.auth.context import Ctx
from numberdesk.auth.permissions import allowed
from numberdesk.dashboard.common import (
    DashCtx,
    DashReadCtx,
    csrf_guard,
    error_lines,
    is_htmx,
    render,
)
from numberdesk.dashboard.numbers.dialogs import release_details_context
from numberdesk.dashboard.numbers.inventory import REASONS, TYPES, Row, not_found, number, rows_for
from numberdesk.errors import NotFound, NumberdeskError
from numberdesk.numbers import service
from numberdesk.numbers.lifecycle import Status
from numberdesk.troubleshoot.service import Diagnostic, diagnose

router = APIRouter(dependencies=[Depends(csrf_guard)], include_in_schema=False)


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
        return number_page_response(request, ctx, number_id, edit_errors=error_lines(err, now=ctx.now(), role=ctx.role),
                            status_code=err.status)
    return RedirectResponse(f"/numbers/{number_id}", status_code=303) if not is_htmx(request) else Response(
        headers={"HX-Refresh": "true"})


# -- the number page ------------------------------------------------------------------------------
def hints(row: Row, checks: list[Diagnostic]) -> list[dict[str, str]]:
    """The failing troubleshooting checks that describe the number's state, as alerts at the top of
    its page: the same words (what was found, what to do) as the Troubleshoot panel and the API."""
    by_code = {c.code: c for c in checks if not c.ok}
    out = []
    for code in ("provisioning", "inactive", "assignment", "released"):
        c = by_code.get(code)
        if c is None:
            continue
        if code == "provisioning":
            level, title = ("bad", "Provisioning is overdue: contact support") if row.overdue else (
                "warn", "Still provisioning")
        elif code == "inactive":
            level, title = "bad", "Inactive: it takes no calls"
        elif code == "assignment":
            level, title = "warn", "Not assigned"
        else:
            level, title = ("info", "Reclaim window missed") if row.returned else ("info", "Released")
        out.append({"level": level, "title": title,
                    "text": f"{c.detail} {c.remedy}" if c.remedy else c.detail})
    return out


def number_page_response(request: Request, ctx: Ctx, number_id: str, *, status_code: int = 200,
                 edit_errors: list[str] | None = None) -> Response:
    try:
        n = number(ctx, number_id)
    except NotFound as err:
        return not_found(request, ctx, err)
    row = rows_for(ctx, [n])[0]
    events = audit.list_events(ctx, target_id=n.id, limit=100) if allowed(ctx.role, "audit.read") else None
    details = release_details_context(ctx, n) if n.status == Status.released else {}
    history = service.history_of(ctx, n.id)
    actors = accounts.actor_labels(ctx, [h.actor for h in history] + [e.actor for e in events or []]
                                   + [n.released_by or ""])
    return render(request, ctx, "numbers/number.html", status_code=status_code, active="numbers",
                  row=row, n=n, history=history, events=events, actors=actors,
                  hints=hints(row, diagnose(ctx, n.id)),
                  edit_errors=edit_errors or [], types=TYPES, reasons=REASONS,
                  eligibility=details.get("eligibility"), similar=details.get("similar", []),
                  expired=details.get("expired", False), previous=details.get("previous"),
                  cooling=details.get("cooling", False))


@router.get("/numbers/{number_id}", response_class=HTMLResponse)
def number_page(request: Request, number_id: str, ctx: DashReadCtx) -> Response:
    """A number's details, status history, audit trail and troubleshooting hints."""
    return number_page_response(request, ctx, number_id)
