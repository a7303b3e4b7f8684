"""Route for troubleshooting a number: the guide's checklists, check by check."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from numberdesk.api.deps import ReadCtx
from numberdesk.api.problems import problem_responses
from numberdesk.troubleshoot.service import diagnose

router = APIRouter(prefix="/v1", tags=["numbers"])


class DiagnosticOut(BaseModel):
    code: str
    ok: bool
    detail: str
    remedy: str | None


class DiagnosticsOut(BaseModel):
    number_id: str
    ok: bool
    checks: list[DiagnosticOut]


@router.get("/numbers/{number_id}/diagnostics", response_model=DiagnosticsOut,
            responses=problem_responses(401, 403, 404))
def number_diagnostics(number_id: str, ctx: ReadCtx) -> dict[str, object]:
    """Troubleshoot a number: each check of the guide with what was found and, when it fails, what to do.

    A number in the inventory: `provisioning` (still pending, and for how long; over 48 h:
    contact support), `inactive` (billing or configuration), `assignment`, `destination`,
    `test_call` (what a caller reaches), then what could block a release: `active_calls`,
    `has_dependencies`, `release_permission`, `maintenance`. A released number: `released`,
    `cooldown`, `reclaim_window`, `eligibility`, `reactivate_permission`, `maintenance`, `test_call`.
    """
    checks = diagnose(ctx, number_id)
    return {"number_id": number_id, "ok": all(c.ok for c in checks),
            "checks": [{"code": c.code, "ok": c.ok, "detail": c.detail, "remedy": c.remedy} for c in checks]}
