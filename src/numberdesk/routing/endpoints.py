"""Carrier webhooks (Twilio, Telnyx), the JSON route lookup and the test call.

Webhooks carry no API key: a request is trusted only when its signature checks
out against the public URL and the carrier secret in the settings; anything else
is a 403 and nothing is recorded.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from numberdesk.api.deps import ReadCtx
from numberdesk.api.problems import problem_responses
from numberdesk.kit.schemas import Body
from numberdesk.routing import decide as routing
from numberdesk.routing.webhook_endpoints import router as webhooks_router

router = APIRouter()
router.include_router(webhooks_router)
ERRORS = problem_responses(401, 403, 404, 422)


class RouteOut(BaseModel):
    type: Literal["agent", "pool", "fallback", "not_in_service"]
    destination: str | None
    agent_id: str | None


class RouteDecisionOut(BaseModel):
    number_id: str | None
    status: str | None
    route: RouteOut
    reason: str


class TestCallIn(Body):
    from_: str | None = Field(None, alias="from", max_length=40, description="The caller to pretend to be")


class TestRouteOut(RouteOut):
    agent_name: str | None
    destination_kind: Literal["sip", "phone", "stream"] | None


class TestCallOut(BaseModel):
    number_id: str
    phone_number: str
    from_: str | None = Field(alias="from")
    status: str
    route: TestRouteOut
    reason: str
    reaches: str
    twiml: str
    at: str


@router.get("/v1/routes/{e164}", tags=["routing"], response_model=RouteDecisionOut, responses=ERRORS)
def get_route(e164: str, ctx: ReadCtx) -> dict[str, Any]:
    """Where a call to one of the account's numbers goes now, and why (for SIP proxies and agent runtimes)."""
    d = routing.route_for_account(ctx, e164)
    return {"number_id": d.number_id, "status": d.status,
            "route": {"type": d.type, "destination": d.destination, "agent_id": d.agent_id},
            "reason": d.reason}


@router.post("/v1/numbers/{number_id}/test-call", tags=["numbers"], response_model=TestCallOut,
             responses=ERRORS)
def test_call(number_id: str, ctx: ReadCtx, body: TestCallIn | None = None) -> dict[str, Any]:
    """Run the whole routing path for the number without a carrier: what a caller would reach, why,
    and the TwiML a carrier would be answered with (member role and up; changes nothing)."""
    return routing.test_call(ctx, number_id, body.from_ if body else None)
