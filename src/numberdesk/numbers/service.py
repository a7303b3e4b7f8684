"""The number inventory: search and buy, list, edit, assign.

Reads go through ``numbers.repository``; status changes through ``numbers.history``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from numberdesk.accounts.models import Account
from numberdesk.agents.models import Agent
from numberdesk.audit import service as audit
from numberdesk.auth.context import Ctx
from numberdesk.errors import NotFound, NumberUnavailable, ValidationFailed
from numberdesk.kit import pagination, phone
from numberdesk.kit.ids import new_id
from numberdesk.maintenance.service import ensure_no_maintenance
from numberdesk.numbers import history, lifecycle, naming, repository
from numberdesk.numbers.history import snapshot
from numberdesk.numbers.lifecycle import Action, Status
from numberdesk.numbers.models import PhoneNumber, StatusChange
from numberdesk.numbers.repository import NumberFilter, parse_sort, sort_value
from numberdesk.pools.models import Pool
from numberdesk.providers.base import (
    CAPABILITIES,
    COUNTRIES,
    Carrier,
    Exclude,
    Listing,
    Order,
    SearchQuery,
    keypad_digits,
)
from numberdesk.providers.registry import get_carrier

__all__ = ["NumberFilter", "parse_sort", "snapshot", "sort_value"]

MAX_TAGS = 20
# The API's order of the number types (``providers.base.TYPES`` is the carriers').
NUMBER_TYPES = ("local", "toll_free", "mobile")


# -- searching the carrier -----------------------------------------------------
def taken_numbers(session: Session) -> Exclude:
    """The carrier's ``exclude``: of the given E.164s, those an account holds or has on hold."""
    return lambda numbers: repository.taken(session, numbers)


def check_search(query: SearchQuery) -> None:
    """422 for a search the carrier cannot run (the API's query types check the rest)."""
    if query.contains:
        try:
            keypad_digits(query.contains)
        except ValueError:
            raise ValidationFailed.field(
                "contains", "may hold digits, letters (keypad) and * (any one digit)") from None


def search_available(ctx: Ctx, query: SearchQuery) -> list[Listing]:
    ctx.require("read")
    check_search(query)
    return get_carrier(ctx.settings).search(ctx.session, query, ctx.now(), exclude=taken_numbers(ctx.session))


def similar_available(ctx: Ctx, phone_number: str, limit: int = 5) -> list[Listing]:
    """Numbers for sale like this one (same area code first), never one somebody holds."""
    ctx.require("read")
    return get_carrier(ctx.settings).similar(ctx.session, phone_number, ctx.now(), limit=limit,
                                             exclude=taken_numbers(ctx.session))


def listing_of(ctx: Ctx, phone_number: str) -> Listing:
    """The listing of one number for sale now; ``number_unavailable`` when it is not."""
    ctx.require("read")
    e164 = phone.parse(phone_number)
    listing = get_carrier(ctx.settings).lookup(ctx.session, e164, ctx.now(), exclude=taken_numbers(ctx.session))
    if listing is None:
        raise NumberUnavailable(f"{phone.national_format(e164)} is no longer for sale.")
    return listing


# -- reading --------------------------------------------------------------------
def get(ctx: Ctx, number_id: str) -> PhoneNumber:
    ctx.require("read")
    return repository.get(ctx, number_id)


def tags_of(ctx: Ctx, number_ids: list[str]) -> dict[str, list[str]]:
    return repository.tags_of(ctx, number_ids)


def assignment_names(ctx: Ctx, numbers: list[PhoneNumber]) -> dict[str, str]:
    return repository.assignment_names(ctx, numbers)


def list_numbers(
    ctx: Ctx, f: NumberFilter, *, sort: str | None, limit: int, after: tuple[object, str] | None
) -> list[PhoneNumber]:
    """``limit + 1`` numbers by keyset (one extra: whether there is a next page)."""
    ctx.require("read")
    return repository.list_numbers(ctx, f, sort=sort, limit=limit + 1, after=after)


def list_page(ctx: Ctx, f: NumberFilter, *, sort: str | None, limit: int,
              cursor: str | None) -> tuple[list[PhoneNumber], str | None]:
    """A page of numbers and the cursor of the next (422 ``sort`` or ``cursor`` when not valid)."""
    kinds = repository.cursor_kinds(sort)
    after = pagination.decode(cursor, kinds=kinds) if cursor else None
    rows = list_numbers(ctx, f, sort=sort, limit=limit, after=after)  # type: ignore[arg-type]
    return pagination.page(rows, limit, lambda n: (sort_value(n, sort), n.id))


def count_by_status(ctx: Ctx, f: NumberFilter | None = None) -> dict[str, int]:
    ctx.require("read")
    return repository.count_by_status(ctx, f)


def monthly_cost(ctx: Ctx) -> dict[str, int]:
    """Monthly cost of the numbers that are billed (active, inactive), per currency."""
    ctx.require("read")
    return repository.monthly_cost(ctx)


@dataclass
class Attention:
    overdue: int      # pending for longer than the overdue threshold
    inactive: int
    closing: int      # released, reclaim window ends within ``lifecycle.CLOSING_WITHIN``


def attention(ctx: Ctx) -> Attention:
    """Counts of the numbers that need a person: overdue, inactive, reclaim window closing soon."""
    ctx.require("read")
    now = ctx.now()
    inactive = repository.count_by_status(ctx, NumberFilter(status=Status.inactive)).get(Status.inactive, 0)
    return Attention(overdue=repository.count_overdue(ctx, now), inactive=inactive,
                     closing=repository.count_closing(ctx, now))


def choices(ctx: Ctx) -> list[tuple[str, str, str]]:
    """(id, E.164, friendly name) of the account's numbers, by name: for pickers."""
    ctx.require("read")
    return repository.choices(ctx)


def history_of(ctx: Ctx, number_id: str) -> list[StatusChange]:
    """Every status change of the number, oldest first."""
    ctx.require("read")
    repository.get(ctx, number_id)
    return repository.history(ctx, number_id)


# -- writing ----------------------------------------------------------------------
def _clean_tags(tags: list[str] | None) -> list[str]:
    out: list[str] = []
    for t in tags or []:
        t = t.strip().lower()
        if not t or len(t) > 64:
            raise ValidationFailed.field("tags", "each tag must be 1 to 64 characters")
        if t not in out:
            out.append(t)
    if len(out) > MAX_TAGS:
        raise ValidationFailed.field("tags", f"at most {MAX_TAGS} tags")
    return out


def default_friendly_name(ctx: Ctx, listing: Listing, department: str | None) -> str:
    """The account's naming template filled in for a new number (its national format without one)."""
    account = ctx.session.get(Account, ctx.account_id)
    template = account.naming_template if account else None
    if not template:
        return listing.national_format
    values = {
        "department": department or "general", "area_code": listing.area_code or "",
        "country": listing.country, "type": listing.type, "locality": listing.locality or "",
        "seq": f"{repository.count_all(ctx) + 1:03d}",
    }
    return naming.render(template, values) or listing.national_format


def adoptable(session: Session, carrier: Carrier, phone_number: str, now: dt.datetime) -> tuple[Listing, Order] | None:
    """The listing and order of ``phone_number`` when the carrier holds it for us as an
    orphan (no live row of ours knows it), so a purchase can take it over; else None."""
    if repository.holder_of(session, phone_number) is not None:
        return None  # somebody here holds it: not an orphan
    holding = next((h for h in carrier.holdings(session, phone_number) if h.phone_number == phone_number), None)
    if holding is None:
        return None
    return carrier.adopt(session, holding, now)


def purchase(
    ctx: Ctx, phone_number: str, *, friendly_name: str | None = None, agent_id: str | None = None,
    tags: list[str] | None = None, department: str | None = None,
) -> PhoneNumber:
    """Buy a number: it starts ``pending`` and turns ``active`` once provisioned.

    Race-safe: the unique index on live E.164s lets exactly one of any number of
    concurrent buyers insert; every other gets ``number_unavailable``.
    """
    ctx.require("numbers.buy")
    e164 = phone.parse(phone_number)
    tags = _clean_tags(tags)
    if agent_id is not None:
        _agent(ctx, agent_id)
    now = ctx.now()
    ensure_no_maintenance(ctx.session, now, "buying numbers")
    carrier = get_carrier(ctx.settings)
    listing = carrier.lookup(ctx.session, e164, now, exclude=taken_numbers(ctx.session))
    adopted = None
    if listing is None:
        # A purchase that crashed between the carrier's answer and our commit left the
        # number held at the carrier and unknown here: take that order over, never order twice.
        found = adoptable(ctx.session, carrier, e164, now)
        if found is not None:
            listing, adopted = found
    if listing is None:
        raise NumberUnavailable(
            f"{e164} is not for sale: another customer holds it, it is on hold, or the carrier "
            "does not have it. Search available numbers for alternatives.")
    n = PhoneNumber(
        id=new_id("num"), account_id=ctx.account_id, phone_number=e164, country=listing.country,
        type=listing.type, cap_voice=listing.voice, cap_sms=listing.sms, cap_mms=listing.mms,
        locality=listing.locality, region=listing.region,
        friendly_name=(friendly_name or "").strip() or default_friendly_name(ctx, listing, department),
        department=(department or None), status=lifecycle.INITIAL, agent_id=agent_id,
        monthly_price_minor=listing.monthly_price_minor, setup_price_minor=listing.setup_price_minor,
        currency=listing.currency, provider=carrier.name, purchased_at=now, created_at=now, updated_at=now,
    )
    try:
        with ctx.session.begin_nested():
            ctx.session.add(n)
            ctx.session.flush()
    except IntegrityError:
        raise NumberUnavailable(f"{e164} was just bought by someone else.") from None
    order = adopted or carrier.order(ctx.session, listing, now)
    n.provider_ref = order.ref
    n.provisioning_due_at = order.ready_at
    repository.set_tags(ctx, n, tags)
    history.purchased(ctx, n, {**snapshot(n), "phone_number": e164, "tags": tags,
                               "monthly_price_minor": n.monthly_price_minor, "currency": n.currency,
                               **({"adopted_carrier_order": order.ref} if adopted else {})})
    ctx.session.flush()
    return n


def update_number(ctx: Ctx, number_id: str, changes: dict[str, object]) -> PhoneNumber:
    ctx.require("numbers.edit")
    n = repository.get_for_update(ctx, number_id)
    lifecycle.transition(n.status, Action.edit, returned=n.returned_at is not None)
    before = {**snapshot(n), "tags": repository.tags_of(ctx, [n.id])[n.id]}
    if "friendly_name" in changes:
        name = str(changes["friendly_name"] or "").strip()
        if not name or len(name) > 200:
            raise ValidationFailed.field("friendly_name", "must be 1 to 200 characters")
        n.friendly_name = name
    if "department" in changes:
        dept = str(changes["department"] or "").strip() or None
        if dept and len(dept) > 100:
            raise ValidationFailed.field("department", "at most 100 characters")
        n.department = dept
    tags = before["tags"]
    if "tags" in changes:
        tags = _clean_tags(changes["tags"])  # type: ignore[arg-type]
        repository.set_tags(ctx, n, tags)
    n.updated_at = ctx.now()
    n.version += 1
    audit.record(ctx, "number.update", "number", n.id, before, {**snapshot(n), "tags": tags})
    return n


def _agent(ctx: Ctx, agent_id: str) -> None:
    agent = ctx.session.get(Agent, agent_id)
    if agent is None or agent.account_id != ctx.account_id:
        raise NotFound(f"No agent {agent_id} in this account.")


def assign(ctx: Ctx, number_id: str, *, agent_id: str | None = None, pool_id: str | None = None) -> PhoneNumber:
    ctx.require("numbers.assign")
    if (agent_id is None) == (pool_id is None):
        raise ValidationFailed("Give exactly one of agent_id or pool_id.",
                               [{"field": "agent_id", "detail": "give agent_id or pool_id, not both"}])
    n = repository.get_for_update(ctx, number_id)
    lifecycle.transition(n.status, Action.assign, returned=n.returned_at is not None)
    before = snapshot(n)
    if agent_id is not None:
        _agent(ctx, agent_id)
    else:
        pool = ctx.session.get(Pool, pool_id)
        if pool is None or pool.account_id != ctx.account_id:
            raise NotFound(f"No pool {pool_id} in this account.")
    n.agent_id, n.pool_id = agent_id, pool_id
    n.updated_at = ctx.now()
    n.version += 1
    audit.record(ctx, "number.assign", "number", n.id, before, snapshot(n))
    return n


def unassign(ctx: Ctx, number_id: str) -> PhoneNumber:
    ctx.require("numbers.assign")
    n = repository.get_for_update(ctx, number_id)
    lifecycle.transition(n.status, Action.unassign, returned=n.returned_at is not None)
    before = snapshot(n)
    n.agent_id = n.pool_id = None
    if n.status == Status.released:
        # Unassigning a released number also forgets the assignment to restore.
        n.previous_agent_id = n.previous_pool_id = None
    n.updated_at = ctx.now()
    n.version += 1
    audit.record(ctx, "number.unassign", "number", n.id, before, snapshot(n))
    return n


def search_query(*, country: str | None = None, type: str | None = None, area_code: str | None = None,
                 prefix: str | None = None, contains: str | None = None, capabilities: frozenset[str] = frozenset(),
                 locality: str | None = None, limit: int = 20) -> SearchQuery:
    """A carrier search from what a person typed; every field that is not valid is a 422 at once."""
    errors = []
    if country and country not in COUNTRIES:
        errors.append({"field": "country", "detail": f"must be {', '.join(COUNTRIES[:-1])} or {COUNTRIES[-1]}"})
    if type and type not in NUMBER_TYPES:
        errors.append({"field": "type", "detail": "must be local, toll_free or mobile"})
    if area_code and not (area_code.isdigit() and len(area_code) <= 5):
        errors.append({"field": "area_code", "detail": "up to 5 digits, e.g. 415"})
    if prefix and not prefix.lstrip("+").isdigit():
        errors.append({"field": "prefix", "detail": "digits, optionally starting with +, e.g. +1415555"})
    bad_caps = sorted(capabilities - set(CAPABILITIES))
    if bad_caps:
        errors.append({"field": "capability", "detail": "must be voice, sms or mms"})
    if errors:
        raise ValidationFailed("; ".join(e["detail"] for e in errors), errors)
    query = SearchQuery(country=country, type=type, area_code=area_code, prefix=prefix, contains=contains,
                        capabilities=capabilities, locality=locality, limit=limit)
    check_search(query)
    return query
