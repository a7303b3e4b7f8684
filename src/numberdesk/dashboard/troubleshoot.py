"""Each number's Troubleshoot panel (or page): the checks of ``troubleshoot.diagnose``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from numberdesk.dashboard.common import DashReadCtx, csrf_guard, error_lines, is_htmx, render
from numberdesk.errors import NumberdeskError
from numberdesk.numbers import service as numbers
from numberdesk.troubleshoot.service import diagnose

router = APIRouter(dependencies=[Depends(csrf_guard)], include_in_schema=False)


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
