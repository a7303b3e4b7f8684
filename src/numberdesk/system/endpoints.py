"""The sandbox's controls: its clock and failure switches (owner role; 404 off sandbox)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from numberdesk.auth.deps import ReadCtx, WriteCtx
from numberdesk.context import Ctx
from numberdesk.errors import NotFound
from numberdesk.money import rfc3339
from numberdesk.schemas import Body, problem_responses

router = APIRouter(prefix="/v1/sandbox", tags=["sandbox"])
ERRORS = problem_responses(401, 403, 404, 422)


class ClockOut(BaseModel):
    now: str
    changes: dict[str, int] = {}


class Advance(Body):
    seconds: int = Field(ge=1, le=5 * 366 * 86400)


class SwitchIn(Body):
    enabled: bool


def _sandbox_only(ctx: Ctx) -> None:
    if not ctx.settings.is_sandbox:
        raise NotFound("There is no sandbox: this deployment uses a real carrier.")
    ctx.require("sandbox.control")


@router.get("/clock", response_model=ClockOut, responses=ERRORS)
def get_clock(ctx: ReadCtx) -> dict[str, object]:
    _sandbox_only(ctx)
    return {"now": rfc3339(ctx.clock.now())}


@router.post("/clock/advance", response_model=ClockOut, responses=ERRORS)
def advance_clock(body: Advance, ctx: ReadCtx, request: Request) -> dict[str, object]:
    """Move the sandbox clock forward; every change that became due runs before this returns."""
    from numberdesk.system.control import advance

    _sandbox_only(ctx)
    now, changes = advance(ctx, request.app.state.nd, body.seconds)
    return {"now": rfc3339(now), "changes": changes}


@router.put("/switches/{name}", responses=ERRORS)
def set_switch(name: str, body: SwitchIn, ctx: WriteCtx) -> dict[str, object]:
    """Failure injection: `reject_orders`, `stall_provisioning`."""
    from numberdesk.system.control import set_switch as do_set

    _sandbox_only(ctx)
    do_set(ctx, name, body.enabled)
    return {"name": name, "enabled": body.enabled}
