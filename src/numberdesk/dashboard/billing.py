"""Billing (owners): this cycle's charges, the projection, cost by department, past
cycles and their CSV; and each number's Troubleshoot panel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from numberdesk import pagination
from numberdesk.billing import ledger
from numberdesk.billing import service as billing
from numberdesk.billing.endpoints import charges_csv
from numberdesk.billing.models import InactiveCause
from numberdesk.context import Ctx
from numberdesk.dashboard.common import DashReadCtx, csrf_guard, error_lines, is_htmx, render
from numberdesk.errors import NumberdeskError, ValidationFailed
from numberdesk.numbers import service as numbers
from numberdesk.numbers.diagnostics import diagnose
from numberdesk.numbers.lifecycle import InactiveReason, Status
from numberdesk.numbers.models import PhoneNumber

router = APIRouter(dependencies=[Depends(csrf_guard)], include_in_schema=False)

PAGE_SIZE = 50
Cycle = Annotated[str | None, Query(max_length=20)]


def cycle_label(cycle: str) -> str:
    """``2026-03`` as "March 2026"."""
    return ledger.cycle_start(cycle).strftime("%B %Y")


def _held_for_billing(ctx: Ctx) -> int:
    """How many numbers the account's past-due status holds inactive."""
    return ctx.session.scalar(
        select(func.count()).select_from(InactiveCause).join(PhoneNumber, PhoneNumber.id == InactiveCause.number_id)
        .where(InactiveCause.account_id == ctx.account_id, InactiveCause.cause == InactiveReason.billing,
               PhoneNumber.status == Status.inactive)) or 0


def _cycle_choices(ctx: Ctx, current: str, shown: str) -> list[str]:
    """The cycles to pick from: every one with charges, the current and the next."""
    choices = set(billing.cycles_with_charges(ctx)) | {current, shown}
    return sorted(choices, reverse=True)


@router.get("/billing", response_class=HTMLResponse)
def billing_page(request: Request, ctx: DashReadCtx, cycle: Cycle = None, cursor: Cycle = None) -> Response:
    """Charges per cycle and per number, the next cycle's projected cost, cost by department (owners)."""
    errors: list[str] = []
    after = None
    if cursor:
        try:
            after = pagination.decode(cursor, kinds=(int,))[0]
        except ValidationFailed:
            errors.append("That page link is out of date; showing the first page.")
    try:
        summary = billing.summary(ctx)
        try:
            shown, lines = billing.list_charges(ctx, cycle or None, limit=PAGE_SIZE, after=after)
        except ValidationFailed:
            errors.append(f"{cycle!r} is not a month such as {summary.cycle}; showing the current cycle.")
            shown, lines = billing.list_charges(ctx, None, limit=PAGE_SIZE, after=None)
        _, totals = billing.cycle_totals(ctx, shown)
    except NumberdeskError as err:
        return render(request, ctx, "error.html", status_code=err.status, title="Billing", active="billing",
                      lines=error_lines(err, role=ctx.role))
    next_cursor = None
    if len(lines) > PAGE_SIZE:
        lines = lines[:PAGE_SIZE]
        next_cursor = pagination.encode(lines[-1].id)
    return render(
        request, ctx, "billing/billing.html", active="billing", summary=summary, shown=shown, lines=lines,
        totals=totals, next_cursor=next_cursor, paged=after is not None, errors=errors,
        next_cycle=ledger.next_cycle(summary.cycle), previous_cycle=ledger.previous_cycle(shown),
        following_cycle=ledger.next_cycle(shown), choices=_cycle_choices(ctx, summary.cycle, shown),
        cycle_label=cycle_label, held=_held_for_billing(ctx))


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


@router.get("/numbers/{number_id}/troubleshoot", response_class=HTMLResponse)
def troubleshoot(request: Request, number_id: str, ctx: DashReadCtx) -> Response:
    """The guide's troubleshooting checks for one number (a panel of the number page, or a page)."""
    try:
        n = numbers.get(ctx, number_id)
        checks = diagnose(ctx, number_id)
    except NumberdeskError as err:
        return render(request, ctx, "error.html", status_code=err.status, title="Troubleshoot",
                      active="numbers", lines=error_lines(err, role=ctx.role))
    name = "billing/_troubleshoot.html" if is_htmx(request) else "billing/troubleshoot.html"
    return render(request, ctx, name, active="numbers", n=n, checks=checks,
                  failing=[c for c in checks if not c.ok])
