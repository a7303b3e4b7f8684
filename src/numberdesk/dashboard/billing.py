"""Billing (owners): this cycle's charges, the projection, cost by department, past
cycles and their CSV."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from numberdesk.auth.context import Ctx
from numberdesk.billing import ledger
from numberdesk.billing import service as billing
from numberdesk.billing.export import charges_csv
from numberdesk.dashboard.common import DashReadCtx, csrf_guard, error_lines, render
from numberdesk.errors import NumberdeskError, ValidationFailed

router = APIRouter(dependencies=[Depends(csrf_guard)], include_in_schema=False)

PAGE_SIZE = 50
Cycle = Annotated[str | None, Query(max_length=20)]


def cycle_label(cycle: str) -> str:
    """``2026-03`` as "March 2026"."""
    return ledger.cycle_start(cycle).strftime("%B %Y")


def _cycle_choices(ctx: Ctx, current: str, shown: str) -> list[str]:
    """The cycles to pick from: every one with charges, the current and the next."""
    choices = set(billing.cycles_with_charges(ctx)) | {current, shown}
    return sorted(choices, reverse=True)


@router.get("/billing", response_class=HTMLResponse)
def billing_page(request: Request, ctx: DashReadCtx, cycle: Cycle = None, cursor: Cycle = None) -> Response:
    """Charges per cycle and per number, the next cycle's projected cost, cost by department (owners)."""
    errors: list[str] = []
    try:
        summary = billing.summary(ctx)
        while True:
            try:
                shown, lines, next_cursor = billing.charges_page(ctx, cycle or None, limit=PAGE_SIZE, cursor=cursor)
                break
            except ValidationFailed as err:
                field = (err.extra.get("errors") or [{}])[0].get("field")
                if field == "cursor" and cursor:
                    errors.append("That page link is out of date; showing the first page.")
                    cursor = None
                elif field == "cycle" and cycle:
                    errors.append(f"{cycle!r} is not a month such as {summary.cycle}; showing the current cycle.")
                    cycle, cursor = None, None
                else:
                    raise
        _, totals = billing.cycle_totals(ctx, shown)
    except NumberdeskError as err:
        return render(request, ctx, "error.html", status_code=err.status, title="Billing", active="billing",
                      lines=error_lines(err, role=ctx.role))
    return render(
        request, ctx, "billing/billing.html", active="billing", summary=summary, shown=shown, lines=lines,
        totals=totals, next_cursor=next_cursor, paged=cursor is not None, errors=errors,
        next_cycle=ledger.next_cycle(summary.cycle), previous_cycle=ledger.previous_cycle(shown),
        following_cycle=ledger.next_cycle(shown), choices=_cycle_choices(ctx, summary.cycle, shown),
        cycle_label=cycle_label, held=billing.held_for_billing(ctx))


@router.get("/billing/charges.csv")
def billing_csv(request: Request, ctx: DashReadCtx, cycle: Cycle = None) -> Response:
    """One cycle's charges as CSV (owners): the same file as the API's export."""
    try:
        shown, lines = billing.all_charges(ctx, cycle or None)
    except NumberdeskError as err:
        return render(request, ctx, "error.html", status_code=err.status, title="Billing", active="billing",
                      lines=error_lines(err, role=ctx.role))
    return Response(charges_csv(lines), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="charges-{shown}.csv"'})
