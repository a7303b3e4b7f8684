"""Routes for billing (owner role) and the sandbox's per-number configuration switch."""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Query, Response

from numberdesk import pagination
from numberdesk.auth.deps import ReadCtx, WriteCtx
from numberdesk.billing import inactive, service
from numberdesk.billing.schemas import (
    ChargesPage,
    ConfigurationSwitch,
    SummaryOut,
    charge_out,
    summary_out,
    totals_out,
)
from numberdesk.billing.service import ChargeLine
from numberdesk.money import rfc3339, to_decimal
from numberdesk.numbers.endpoints import present_one
from numberdesk.numbers.schemas import NumberOut
from numberdesk.schemas import problem_responses

router = APIRouter(tags=["billing"])
ERRORS = problem_responses(401, 403, 404, 422)
Cycle = Annotated[str | None, Query(description="A month, `YYYY-MM` (UTC); default: the current cycle",
                                    max_length=7)]
CSV_COLUMNS = ("cycle", "number_id", "phone_number", "friendly_name", "department", "amount", "currency",
               "charged_at")


@router.get("/v1/billing/charges", response_model=ChargesPage, responses=ERRORS)
def list_charges(
    ctx: ReadCtx,
    cycle: Cycle = None,
    limit: Annotated[int, Query(ge=1, le=pagination.MAX_LIMIT)] = pagination.DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, object]:
    """The charges of one billing cycle, one per number, and their total per currency (owner).

    A number is charged its full monthly price once for each calendar month (UTC)
    in which it was active or inactive at any moment.
    """
    after = pagination.decode(cursor, kinds=(int,))[0] if cursor else None
    cycle_name, rows = service.list_charges(ctx, cycle, limit=limit, after=after)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = pagination.encode(rows[-1].id)
    _, totals = service.cycle_totals(ctx, cycle_name)
    return {"cycle": cycle_name, "data": [charge_out(x) for x in rows], "total": totals_out(totals),
            "next_cursor": next_cursor}


def _csv_cell(value: str) -> str:
    # A spreadsheet runs a cell that starts with = + - @ as a formula; names are user input.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def charges_csv(rows: list[ChargeLine]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for x in rows:
        w.writerow([x.cycle, x.number_id, x.phone_number, _csv_cell(x.friendly_name),
                    _csv_cell(x.department or ""), str(to_decimal(x.amount_minor, x.currency)), x.currency,
                    rfc3339(x.charged_at)])
    return buf.getvalue()


@router.get("/v1/billing/charges.csv", responses={**ERRORS, 200: {"content": {"text/csv": {}}}})
def export_charges(ctx: ReadCtx, cycle: Cycle = None) -> Response:
    """Every charge of one cycle as CSV (owner): `cycle, number_id, phone_number, friendly_name, department, amount, currency, charged_at`."""
    cycle_name, rows = service.all_charges(ctx, cycle)
    return Response(charges_csv(rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="charges-{cycle_name}.csv"'})


@router.get("/v1/billing/summary", response_model=SummaryOut, responses=ERRORS)
def billing_summary(ctx: ReadCtx) -> dict[str, object]:
    """This cycle's charges so far, their split by department, and the projected cost of the next cycle (owner).

    The projection counts every active, inactive and pending number at its monthly price.
    """
    return summary_out(service.summary(ctx))


@router.put("/v1/sandbox/numbers/{number_id}/configuration", response_model=NumberOut,
            responses=problem_responses(401, 403, 404, 409, 422), tags=["sandbox"])
def set_configuration(number_id: str, body: ConfigurationSwitch, ctx: WriteCtx) -> dict[str, object]:
    """Make the sandbox carrier report this number's configuration broken or fixed (owner, sandbox only).

    Broken: an active number turns `inactive` with reason `configuration`. Fixed: it
    returns to `active` unless the account is also past due.
    """
    n = inactive.sandbox_set_configuration(ctx, number_id, body.broken)
    return present_one(ctx, n)
