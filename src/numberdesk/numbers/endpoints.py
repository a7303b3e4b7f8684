"""Routes for numbers and available numbers: auth, one service call, shape the answer."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from numberdesk.api.deps import ReadCtx, WriteCtx
from numberdesk.api.problems import problem_responses
from numberdesk.kit import pagination
from numberdesk.kit.schemas import Page
from numberdesk.kit.times import rfc3339
from numberdesk.numbers import service
from numberdesk.numbers.schemas import (
    AssignNumber,
    AvailableNumberOut,
    BuyNumber,
    NumberOut,
    StatusChangeOut,
    UpdateNumber,
    listing_out,
    present,
    present_one,
)
from numberdesk.providers.base import COUNTRIES

router = APIRouter(prefix="/v1", tags=["numbers"])
Limit = Annotated[int, Query(ge=1, le=pagination.MAX_LIMIT)]
ERRORS = problem_responses(401, 403, 404, 409, 422, 503)


@router.get("/available-numbers", response_model=Page[AvailableNumberOut], responses=ERRORS)
def search_available_numbers(
    ctx: ReadCtx,
    country: Annotated[Literal[COUNTRIES] | None, Query()] = None,  # type: ignore[valid-type]
    type: Annotated[Literal["local", "toll_free", "mobile"] | None, Query()] = None,
    area_code: Annotated[str | None, Query(pattern=r"^\d{1,5}$")] = None,
    prefix: Annotated[str | None, Query(pattern=r"^\+?\d{1,15}$")] = None,
    contains: Annotated[str | None, Query(min_length=1, max_length=15)] = None,
    capabilities: Annotated[str | None, Query(pattern=r"^(voice|sms|mms)(,(voice|sms|mms))*$")] = None,
    locality: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, object]:
    """Numbers the carrier has for sale, with their monthly and setup prices.

    `contains` takes digits, keypad letters (`CALL` = 2255) and `*` for any one digit.
    A number any account holds or has on hold is never listed.
    """
    query = service.search_query(
        country=country, type=type, area_code=area_code, prefix=prefix, contains=contains,
        capabilities=frozenset(capabilities.split(",")) if capabilities else frozenset(),
        locality=locality, limit=limit,
    )
    return {"data": [listing_out(x) for x in service.search_available(ctx, query)], "next_cursor": None}


@router.post("/numbers", status_code=201, response_model=NumberOut, responses=ERRORS)
def buy_number(body: BuyNumber, ctx: WriteCtx) -> dict[str, object]:
    """Buy a number. It starts `pending` and turns `active` once the carrier has provisioned it."""
    n = service.purchase(ctx, body.phone_number, friendly_name=body.friendly_name, agent_id=body.agent_id,
                         tags=body.tags, department=body.department)
    return present_one(ctx, n)


@router.get("/numbers", response_model=Page[NumberOut], responses=ERRORS)
def list_numbers(
    ctx: ReadCtx,
    status: Annotated[Literal["pending", "active", "inactive", "released"] | None, Query()] = None,
    type: Annotated[Literal["local", "toll_free", "mobile"] | None, Query()] = None,
    agent_id: Annotated[str | None, Query(max_length=40)] = None,
    pool_id: Annotated[str | None, Query(max_length=40)] = None,
    assigned: bool | None = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    department: Annotated[str | None, Query(max_length=100)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    sort: Annotated[str | None, Query(max_length=32)] = None,
    limit: Limit = pagination.DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> dict[str, object]:
    """The account's numbers, filtered and sorted (`sort=purchased_at|phone_number|friendly_name|monthly_price|status`, `-` for descending; default `-purchased_at`)."""
    f = service.NumberFilter(status=status, type=type, agent_id=agent_id, pool_id=pool_id, assigned=assigned,
                             tag=tag.lower() if tag else None, department=department, q=q)
    rows, next_cursor = service.list_page(ctx, f, sort=sort, limit=limit, cursor=cursor)
    return {"data": present(ctx, rows), "next_cursor": next_cursor}


@router.get("/numbers/{number_id}", response_model=NumberOut, responses=ERRORS)
def get_number(number_id: str, ctx: ReadCtx) -> dict[str, object]:
    return present_one(ctx, service.get(ctx, number_id))


@router.patch("/numbers/{number_id}", response_model=NumberOut, responses=ERRORS)
def update_number(number_id: str, body: UpdateNumber, ctx: WriteCtx) -> dict[str, object]:
    """Rename, tag or move a number to a department (member role and up)."""
    n = service.update_number(ctx, number_id, body.model_dump(exclude_unset=True))
    return present_one(ctx, n)


@router.post("/numbers/{number_id}/assign", response_model=NumberOut, responses=ERRORS)
def assign_number(number_id: str, body: AssignNumber, ctx: WriteCtx) -> dict[str, object]:
    """Assign the number to an agent or a pool (replacing any current assignment)."""
    return present_one(ctx, service.assign(ctx, number_id, agent_id=body.agent_id, pool_id=body.pool_id))


@router.post("/numbers/{number_id}/unassign", response_model=NumberOut, responses=ERRORS)
def unassign_number(number_id: str, ctx: WriteCtx) -> dict[str, object]:
    return present_one(ctx, service.unassign(ctx, number_id))


@router.get("/numbers/{number_id}/history", response_model=Page[StatusChangeOut], responses=ERRORS)
def number_history(number_id: str, ctx: ReadCtx) -> dict[str, object]:
    """Every status change of the number, oldest first; kept after release too."""
    rows = service.history_of(ctx, number_id)
    data = [{"from": r.from_status, "to": r.to_status, "reason": r.reason, "actor": r.actor,
             "at": rfc3339(r.at)} for r in rows]
    return {"data": data, "next_cursor": None}
