"""Every ``/v1/sandbox`` route: the sandbox's clock, failure switches and per-number
configuration switch (owner role; 404 off sandbox)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from numberdesk.api.deps import ReadCtx, WriteCtx, app_state
from numberdesk.api.problems import problem_responses
from numberdesk.kit.schemas import Body
from numberdesk.kit.times import rfc3339
from numberdesk.numbers.schemas import NumberOut, present_one
from numberdesk.providers.sandbox import controls

router = APIRouter(prefix="/v1/sandbox")
SANDBOX = ["sandbox"]
ERRORS = problem_responses(401, 403, 404, 422)


class ClockOut(BaseModel):
    now: str
    changes: dict[str, int] = {}


class Advance(Body):
    seconds: int = Field(ge=1, le=5 * 366 * 86400)


class SwitchIn(Body):
    enabled: bool


class ConfigurationSwitch(Body):
    broken: bool


@router.get("/clock", response_model=ClockOut, responses=ERRORS, tags=SANDBOX)
def get_clock(ctx: ReadCtx) -> dict[str, object]:
    controls.sandbox_only(ctx)
    return {"now": rfc3339(ctx.clock.now())}


@router.post("/clock/advance", response_model=ClockOut, responses=ERRORS, tags=SANDBOX)
def advance_clock(body: Advance, ctx: ReadCtx, request: Request) -> dict[str, object]:
    """Move the sandbox clock forward; every change that became due runs before this returns."""
    controls.sandbox_only(ctx)
    now, changes = controls.advance(ctx, app_state(request), body.seconds)
    return {"now": rfc3339(now), "changes": changes}


@router.put("/switches/{name}", responses=ERRORS, tags=SANDBOX)
def set_switch(name: str, body: SwitchIn, ctx: WriteCtx) -> dict[str, object]:
    """Failure injection: `reject_orders`, `stall_provisioning`."""
    controls.set_switch(ctx, name, body.enabled)
    return {"name": name, "enabled": body.enabled}


@router.put("/numbers/{number_id}/configuration", response_model=NumberOut,
            responses=problem_responses(401, 403, 404, 409, 422), tags=["billing", "sandbox"])
def set_configuration(number_id: str, body: ConfigurationSwitch, ctx: WriteCtx) -> dict[str, object]:
    """Make the sandbox carrier report this number's configuration broken or fixed (owner, sandbox only).

    Broken: an active number turns `inactive` with reason `configuration`. Fixed: it
    returns to `active` unless the account is also past due.
    """
    n = controls.set_configuration(ctx, number_id, body.broken)
    return present_one(ctx, n)
