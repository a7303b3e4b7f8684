"""Routes for numbers and available numbers: auth, one service call, shape the answer."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from numberdesk import pagination
from numberdesk.auth.deps import ReadCtx, WriteCtx
from numberdesk.context import Ctx
from numberdesk.numbers import service
from numberdesk.numbers.models import PhoneNumber
from numberdesk.numbers.schemas import (
    AssignNumber,
    AvailableNumberOut,
    BuyNumber,
    NumberOut,
    StatusChangeOut,
    UpdateNumber,
    listing_out,
    number_out,
)
from numberdesk.providers.base import SearchQuery
from numberdesk.schemas import Page, problem_responses

router = APIRouter(prefix="/v1", tags=["numbers"])
Limit = Annotated[int, Query(ge=1, le=pagination.MAX_LIMIT)]
ERRORS = problem_responses(401, 403, 404, 409, 422, 503)


def present(ctx: Ctx, numbers: list[PhoneNumber]) -> list[dict[str, object]]:
    """Numbers as the API shows them (tags and assignee names fetched per page)."""
    tags = service.tags_of(ctx, [n.id for n in numbers])
    names = service.assignment_names(ctx, numbers)
    now = ctx.now()
    hours = ctx.settings.provisioning_overdue_hours
    return [number_out(n, tags=tags[n.id], names=names, now=now, overdue_hours=hours) for n in numbers]


def present_one(ctx: Ctx, n: PhoneNumber) -> dict[str, object]:
    return present(ctx, [n])[0]


@router.get("/available-numbers", response_model=Page[AvailableNumberOut], responses=ERRORS)
def search_available_numbers(
    ctx: ReadCtx,
    country: Annotated[Literal["US", "CA", "GB"] | None, Query()] = None,
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
    query = SearchQuery(
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
    key, _ = service.parse_sort(sort)
    after = None
    if cursor:
        kind = dt.datetime if key == "purchased_at" else (int if key == "monthly_price" else str)
        after = pagination.decode(cursor, kinds=(kind, str))
    rows = service.list_numbers(ctx, f, sort=sort, limit=limit, after=after)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = pagination.encode(service.sort_value(last, sort), last.id)
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
    rows = service.history(ctx, number_id)
    data = [{"from": r.from_status, "to": r.to_status, "reason": r.reason, "actor": r.actor,
             "at": r.at.isoformat().replace("+00:00", "Z")} for r in rows]
    return {"data": data, "next_cursor": None}
