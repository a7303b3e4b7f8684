"""Routes for billing (owner role)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from numberdesk.api.deps import ReadCtx
from numberdesk.api.problems import problem_responses
from numberdesk.billing import service
from numberdesk.billing.export import charges_csv
from numberdesk.billing.schemas import ChargesPage, SummaryOut, charge_out, summary_out, totals_out
from numberdesk.kit import pagination

router = APIRouter(tags=["billing"])
ERRORS = problem_responses(401, 403, 404, 422)
Cycle = Annotated[str | None, Query(description="A month, `YYYY-MM` (UTC); default: the current cycle",
                                    max_length=7)]


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
    cycle_name, rows, next_cursor = service.charges_page(ctx, cycle, limit=limit, cursor=cursor)
    _, totals = service.cycle_totals(ctx, cycle_name)
    return {"cycle": cycle_name, "data": [charge_out(x) for x in rows], "total": totals_out(totals),
            "next_cursor": next_cursor}


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
