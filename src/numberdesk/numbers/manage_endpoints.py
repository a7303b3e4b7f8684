"""Routes for managing many numbers: bulk actions, inventory audit, naming conventions."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from numberdesk.api.deps import ReadCtx, WriteCtx
from numberdesk.api.problems import problem_responses
from numberdesk.kit.money import money
from numberdesk.kit.schemas import Body
from numberdesk.kit.times import rfc3339
from numberdesk.numbers import bulk, inventory_audit
from numberdesk.numbers.schemas import present

router = APIRouter(prefix="/v1", tags=["inventory"])
ERRORS = problem_responses(401, 403, 404, 409, 422, 503)


class BulkAction(Body):
    action: Literal["assign", "unassign", "tag", "untag", "release"]
    number_ids: list[Annotated[str, Field(max_length=40)]] = Field(min_length=1, max_length=bulk.MAX_BULK)
    agent_id: str | None = Field(None, max_length=40)
    pool_id: str | None = Field(None, max_length=40)
    tags: list[Annotated[str, Field(max_length=64)]] | None = Field(None, max_length=20)
    reason: Literal["no_longer_needed", "cost_reduction", "replaced", "spam_reported", "other"] | None = None
    reason_text: str | None = Field(None, max_length=500)
    notes: str | None = Field(None, max_length=2000)
    acknowledge: bool = False
    detach_dependencies: bool = False


class BulkItem(BaseModel):
    number_id: str
    ok: bool
    code: str | None = None
    detail: str | None = None
    blockers: list[dict[str, object]] | None = None


class BulkOut(BaseModel):
    action: str
    succeeded: int
    failed: int
    results: list[BulkItem]


@router.post("/numbers/bulk", response_model=BulkOut, responses=ERRORS)
def bulk_action(body: BulkAction, ctx: WriteCtx) -> dict[str, object]:
    """Assign, unassign, tag, untag or release up to 500 numbers; one result per number.

    A number that fails (wrong state, blocked release, another account's id) is
    reported with its error `code`; the others are still done.
    """
    params = body.model_dump(exclude={"action", "number_ids"})
    results = bulk.run_bulk(ctx, body.action, body.number_ids, params)
    ok = sum(r.ok for r in results)
    return {"action": body.action, "succeeded": ok, "failed": len(results) - ok,
            "results": [r.__dict__ for r in results]}


def _audit_rows(ctx: ReadCtx, idle_days: int) -> tuple[inventory_audit.InventoryAudit, list[dict[str, object]]]:
    audit = inventory_audit.run_audit(ctx, idle_days=idle_days)
    shown = present(ctx, [i.number for i in audit.items])
    rows = [{"number": s, "findings": i.findings, "last_call_at": rfc3339(i.last_call_at)}
            for i, s in zip(audit.items, shown, strict=True)]
    return audit, rows


@router.get("/inventory-audit", responses=ERRORS)
def get_inventory_audit(
    ctx: ReadCtx, idle_days: Annotated[int, Query(ge=1, le=365)] = 30,
) -> dict[str, object]:
    """Numbers that need attention: unassigned, idle (no calls in `idle_days`), inactive,
    provisioning overdue, reclaim window closing within 48 h, friendly name breaking
    the naming template; with the monthly cost of the idle ones."""
    audit, rows = _audit_rows(ctx, idle_days)
    return {"generated_at": rfc3339(audit.generated_at), "idle_days": idle_days, "counts": audit.counts,
            "idle_monthly_cost": [money(v, c) for c, v in sorted(audit.idle_monthly_cost.items())],
            "data": rows}


@router.get("/inventory-audit.csv", responses=ERRORS, response_class=Response)
def get_inventory_audit_csv(
    ctx: ReadCtx, idle_days: Annotated[int, Query(ge=1, le=365)] = 30,
) -> Response:
    """The inventory audit as CSV, one row per number with its findings."""
    _, rows = _audit_rows(ctx, idle_days)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["phone_number", "friendly_name", "status", "assignment", "monthly_price", "currency",
                "last_call_at", "findings"])
    for r in rows:
        n = r["number"]
        a = n["assignment"]
        w.writerow([n["phone_number"], n["friendly_name"], n["status"], a["name"] if a else "",
                    n["monthly_price"]["amount"], n["monthly_price"]["currency"], r["last_call_at"] or "",
                    " ".join(r["findings"])])
    return Response(out.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="inventory-audit.csv"'})


@router.get("/naming/violations", responses=ERRORS)
def get_naming_violations(ctx: ReadCtx) -> dict[str, object]:
    """The account's friendly-name template and the numbers whose name breaks it."""
    template, numbers = inventory_audit.naming_violations(ctx)
    return {"template": template, "data": present(ctx, numbers), "next_cursor": None}
