"""Routes for number pools."""

from __future__ import annotations

from fastapi import APIRouter

from numberdesk.api.deps import ReadCtx, WriteCtx
from numberdesk.api.problems import problem_responses
from numberdesk.kit import phone
from numberdesk.kit.schemas import Page
from numberdesk.pools import service
from numberdesk.pools.schemas import (
    CallerIdIn,
    CallerIdOut,
    CreatePool,
    PoolOut,
    UpdatePool,
    pool_out,
)

router = APIRouter(prefix="/v1/pools", tags=["pools"])
ERRORS = problem_responses(401, 403, 404, 422)


@router.post("", status_code=201, response_model=PoolOut, responses=ERRORS)
def create_pool(body: CreatePool, ctx: WriteCtx) -> dict[str, object]:
    """Create a pool (admin role and up); calls to any of its numbers go to `agent_id`.
    Numbers join it with `POST /v1/numbers/{id}/assign` `{pool_id}`."""
    return pool_out(service.create(ctx, body.name, body.strategy, body.agent_id), 0)


@router.get("", response_model=Page[PoolOut], responses=ERRORS)
def list_pools(ctx: ReadCtx) -> dict[str, object]:
    rows = service.list_pools(ctx)
    counts = service.number_counts(ctx, [p.id for p in rows])
    return {"data": [pool_out(p, counts.get(p.id, 0)) for p in rows], "next_cursor": None}


@router.get("/{pool_id}", response_model=PoolOut, responses=ERRORS)
def get_pool(pool_id: str, ctx: ReadCtx) -> dict[str, object]:
    p = service.get(ctx, pool_id)
    return pool_out(p, service.number_counts(ctx, [p.id]).get(p.id, 0))


@router.patch("/{pool_id}", response_model=PoolOut, responses=ERRORS)
def update_pool(pool_id: str, body: UpdatePool, ctx: WriteCtx) -> dict[str, object]:
    """Rename the pool, change its strategy or its inbound agent (`agent_id: null` removes it)."""
    p = service.update(ctx, pool_id, body.model_dump(exclude_unset=True))
    return pool_out(p, service.number_counts(ctx, [p.id]).get(p.id, 0))


@router.post("/{pool_id}/caller-id", response_model=CallerIdOut,
             responses=problem_responses(401, 403, 404, 409, 422))
def pick_caller_id(pool_id: str, body: CallerIdIn, ctx: WriteCtx) -> dict[str, object]:
    """The pool number an outbound call to `to` should show, by the pool's strategy:
    `local_presence` (same area code, else the nearest), `round_robin` (each call the
    next number) or `sticky` (a callee always sees the same number). Member role and up."""
    pick = service.caller_id(ctx, pool_id, body.to)
    n = pick.number
    return {"pool_id": pool_id, "strategy": pick.strategy, "to": pick.callee,
            "number": {"id": n.id, "phone_number": n.phone_number,
                       "national_format": phone.national_format(n.phone_number)},
            "reason": pick.reason}
