"""Routes for releasing and reclaiming numbers: auth, one service call, shape the answer."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from numberdesk.api.deps import ReadCtx, WriteCtx
from numberdesk.api.problems import problem_responses
from numberdesk.kit.schemas import Body
from numberdesk.kit.times import rfc3339
from numberdesk.numbers import release as service
from numberdesk.numbers.schemas import NumberOut, present_one

router = APIRouter(prefix="/v1", tags=["numbers"])
ERRORS = problem_responses(401, 403, 404, 409, 422, 503)


class ReleaseNumber(Body):
    reason: Literal["no_longer_needed", "cost_reduction", "replaced", "spam_reported", "other"]
    reason_text: str | None = Field(None, max_length=500)
    notes: str | None = Field(None, max_length=5000)
    acknowledge: bool = Field(False, description="Must be true: the number will be disconnected.")
    detach_dependencies: bool = Field(
        False, description="Detach the call flows and automations that use the number in the same request.")


class Reactivate(Body):
    restore_assignment: bool = True


class CheckOut(BaseModel):
    code: str
    ok: bool
    detail: str
    reason: str | None = None


class EligibilityOut(BaseModel):
    eligible: bool
    cooldown_ends_at: str | None
    reclaim_deadline: str | None
    checks: list[CheckOut]


@router.post("/numbers/{number_id}/release", response_model=NumberOut, responses=ERRORS)
def release_number(number_id: str, body: ReleaseNumber, ctx: WriteCtx) -> dict[str, object]:
    """Release a number (admin, owner). It stops working now; it can be reactivated after the
    cooldown and until the reclaim deadline.

    Refused with 409 `release_blocked` listing every blocker at once (`active_calls`,
    `has_dependencies`; pass `detach_dependencies: true` to detach the call flows and
    automations in the same request). `reason: other` needs `reason_text`;
    `acknowledge` must be true. A pending number's order is cancelled.
    """
    n = service.release(ctx, number_id, reason=body.reason, reason_text=body.reason_text, notes=body.notes,
                        acknowledge=body.acknowledge, detach_dependencies=body.detach_dependencies)
    return present_one(ctx, n)


@router.get("/numbers/{number_id}/reactivation", response_model=EligibilityOut, responses=ERRORS)
def reactivation_eligibility(number_id: str, ctx: ReadCtx) -> dict[str, object]:
    """Whether the number can be reactivated now, listing each condition with its state."""
    e = service.reactivation(ctx, number_id)
    return {"eligible": e.eligible, "cooldown_ends_at": rfc3339(e.cooldown_ends_at),
            "reclaim_deadline": rfc3339(e.reclaim_deadline),
            "checks": [{"code": c.code, "ok": c.ok, "detail": c.detail, "reason": c.reason} for c in e.checks]}


@router.post("/numbers/{number_id}/reactivate", response_model=NumberOut, responses=ERRORS)
def reactivate_number(number_id: str, ctx: WriteCtx, body: Reactivate | None = None) -> dict[str, object]:
    """Reactivate a released number (admin, owner): `active`, or `pending` while the carrier
    provisions it again; the previous assignment comes back unless `restore_assignment` is false.

    Refused with 409 and the first failing check's code: `in_cooldown` (with
    `cooldown_ends_at`), `reclaim_window_expired`, `not_eligible` (with `reason`).
    """
    restore = body.restore_assignment if body is not None else True
    return present_one(ctx, service.reactivate(ctx, number_id, restore_assignment=restore))
