"""Every query of the numbers aggregate, scoped to the caller's account (another account's
number is simply not found). Services check permissions and rules; they read through here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, exists, func, literal, or_, select, tuple_
from sqlalchemy.orm import Session

from numberdesk.agents.models import Agent
from numberdesk.auth.context import Ctx
from numberdesk.errors import NotFound, ValidationFailed
from numberdesk.numbers import lifecycle
from numberdesk.numbers.lifecycle import Status
from numberdesk.numbers.models import NumberTag, PhoneNumber, StatusChange
from numberdesk.pools.models import Pool

# Each sort of the inventory list, its column and the kind of its cursor value.
SORTS = {
    "purchased_at": (PhoneNumber.purchased_at, dt.datetime),
    "phone_number": (PhoneNumber.phone_number, str),
    "friendly_name": (PhoneNumber.friendly_name, str),
    "monthly_price": (PhoneNumber.monthly_price_minor, int),
    "status": (PhoneNumber.status, str),
}
DEFAULT_SORT = "-purchased_at"


def get(ctx: Ctx, number_id: str) -> PhoneNumber:
    n = ctx.session.scalar(
        select(PhoneNumber).where(PhoneNumber.id == number_id, PhoneNumber.account_id == ctx.account_id))
    if n is None:
        raise NotFound(f"No number {number_id} in this account.")
    return n


def get_for_update(ctx: Ctx, number_id: str) -> PhoneNumber:
    """The number, locked for the rest of the transaction (PostgreSQL; SQLite's
    write transactions are already exclusive)."""
    n = ctx.session.scalar(
        select(PhoneNumber)
        .where(PhoneNumber.id == number_id, PhoneNumber.account_id == ctx.account_id)
        .with_for_update())
    if n is None:
        raise NotFound(f"No number {number_id} in this account.")
    return n


def exists_in_account(ctx: Ctx, number_id: str) -> bool:
    return ctx.session.scalar(select(PhoneNumber.id).where(
        PhoneNumber.id == number_id, PhoneNumber.account_id == ctx.account_id)) is not None


def taken(session: Session, numbers: list[str]) -> set[str]:
    """Of the given E.164s, those an account holds or has on hold (not yet returned to the carrier)."""
    return set(session.scalars(select(PhoneNumber.phone_number).where(
        PhoneNumber.phone_number.in_(numbers), PhoneNumber.returned_at.is_(None))))


def holder_of(session: Session, e164: str) -> str | None:
    """The id of the live number ``e164`` in any account (the one-holder rule), or None."""
    return session.scalar(select(PhoneNumber.id).where(
        PhoneNumber.phone_number == e164, PhoneNumber.returned_at.is_(None)))


def live_numbers(session: Session) -> list[tuple[str, str, str, str, str | None, str]]:
    """(id, account, E.164, status, carrier ref, provider) of every number not yet returned to a
    carrier, in every account: reconciliation compares the whole deployment with its carrier."""
    return [tuple(r) for r in session.execute(  # type: ignore[misc]
        select(PhoneNumber.id, PhoneNumber.account_id, PhoneNumber.phone_number, PhoneNumber.status,
               PhoneNumber.provider_ref, PhoneNumber.provider)
        .where(PhoneNumber.returned_at.is_(None)).order_by(PhoneNumber.phone_number))]


def statuses(ctx: Ctx, number_ids: list[str]) -> dict[str, str]:
    """The status of each of these numbers of the account (the others are left out)."""
    if not number_ids:
        return {}
    return dict(ctx.session.execute(select(PhoneNumber.id, PhoneNumber.status).where(
        PhoneNumber.account_id == ctx.account_id, PhoneNumber.id.in_(number_ids))).all())


def friendly_names(ctx: Ctx, number_ids: list[str]) -> dict[str, str]:
    return dict(ctx.session.execute(select(PhoneNumber.id, PhoneNumber.friendly_name).where(
        PhoneNumber.account_id == ctx.account_id, PhoneNumber.id.in_(number_ids))).all())


def tags_of(ctx: Ctx, number_ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {i: [] for i in number_ids}
    if number_ids:
        for nid, tag in ctx.session.execute(
            select(NumberTag.number_id, NumberTag.tag)
            .where(NumberTag.account_id == ctx.account_id, NumberTag.number_id.in_(number_ids))
            .order_by(NumberTag.tag)):
            out[nid].append(tag)
    return out


def set_tags(ctx: Ctx, n: PhoneNumber, tags: list[str]) -> None:
    current = set(tags_of(ctx, [n.id])[n.id])
    for t in current - set(tags):
        ctx.session.execute(NumberTag.__table__.delete().where(
            NumberTag.number_id == n.id, NumberTag.tag == t))
    for t in tags:
        if t not in current:
            ctx.session.add(NumberTag(number_id=n.id, tag=t, account_id=ctx.account_id))


def assignment_names(ctx: Ctx, numbers: list[PhoneNumber]) -> dict[str, str]:
    agent_ids = {n.agent_id for n in numbers if n.agent_id}
    pool_ids = {n.pool_id for n in numbers if n.pool_id}
    names: dict[str, str] = {}
    if agent_ids:
        names.update(ctx.session.execute(
            select(Agent.id, Agent.name).where(Agent.account_id == ctx.account_id, Agent.id.in_(agent_ids))).all())
    if pool_ids:
        names.update(ctx.session.execute(
            select(Pool.id, Pool.name).where(Pool.account_id == ctx.account_id, Pool.id.in_(pool_ids))).all())
    return names


def count_assigned(ctx: Ctx, *, agent_ids: list[str] | None = None,
                   pool_ids: list[str] | None = None) -> dict[str, int]:
    """How many numbers each agent (or pool) has."""
    col = PhoneNumber.agent_id if agent_ids is not None else PhoneNumber.pool_id
    ids = agent_ids if agent_ids is not None else pool_ids
    if not ids:
        return {}
    return dict(ctx.session.execute(
        select(col, func.count()).where(PhoneNumber.account_id == ctx.account_id, col.in_(ids))
        .group_by(col)).all())


def voice_numbers_in_service(ctx: Ctx, *, pool_id: str) -> list[PhoneNumber]:
    """The pool's numbers that route calls now (``lifecycle.ROUTES_CALLS``) and have voice, by E.164."""
    return list(ctx.session.scalars(
        select(PhoneNumber).where(
            PhoneNumber.account_id == ctx.account_id, PhoneNumber.pool_id == pool_id,
            PhoneNumber.status.in_([s.value for s in lifecycle.ROUTES_CALLS]), PhoneNumber.cap_voice.is_(True),
        ).order_by(PhoneNumber.phone_number)))


def numbers_of_agent(ctx: Ctx, agent_id: str) -> list[str]:
    """The E.164s of the numbers assigned to ``agent_id``."""
    return list(ctx.session.scalars(select(PhoneNumber.phone_number).where(
        PhoneNumber.account_id == ctx.account_id, PhoneNumber.agent_id == agent_id
    ).order_by(PhoneNumber.phone_number)))


@dataclass
class NumberFilter:
    status: str | None = None
    type: str | None = None
    agent_id: str | None = None
    pool_id: str | None = None
    assigned: bool | None = None
    tag: str | None = None
    department: str | None = None
    q: str | None = None


def filtered(ctx: Ctx, f: NumberFilter) -> Select[tuple[PhoneNumber]]:
    q = select(PhoneNumber).where(PhoneNumber.account_id == ctx.account_id)
    if f.status:
        q = q.where(PhoneNumber.status == f.status)
    if f.type:
        q = q.where(PhoneNumber.type == f.type)
    if f.agent_id:
        q = q.where(PhoneNumber.agent_id == f.agent_id)
    if f.pool_id:
        q = q.where(PhoneNumber.pool_id == f.pool_id)
    if f.assigned is True:
        q = q.where(or_(PhoneNumber.agent_id.is_not(None), PhoneNumber.pool_id.is_not(None)))
    elif f.assigned is False:
        q = q.where(PhoneNumber.agent_id.is_(None), PhoneNumber.pool_id.is_(None))
    if f.department:
        q = q.where(PhoneNumber.department == f.department)
    if f.tag:
        q = q.where(exists().where(
            NumberTag.number_id == PhoneNumber.id, NumberTag.account_id == ctx.account_id,
            NumberTag.tag == f.tag))
    if f.q:
        text = f.q.strip()
        digits = "".join(ch for ch in text if ch.isdigit())
        conds = [func.lower(PhoneNumber.friendly_name).contains(text.lower(), autoescape=True)]
        if digits:
            conds.append(PhoneNumber.phone_number.contains(digits, autoescape=True))
        q = q.where(or_(*conds))
    return q


def parse_sort(sort: str | None) -> tuple[str, bool]:
    """``-purchased_at`` → (``purchased_at``, descending); 422 for an unknown sort."""
    sort = sort or DEFAULT_SORT
    desc = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in SORTS:
        raise ValidationFailed.field("sort", f"must be one of {', '.join(SORTS)} (prefix - for descending)")
    return key, desc


def cursor_kinds(sort: str | None) -> tuple[type, type]:
    """The kinds of a cursor's values for this sort: the sort key's, then the id."""
    return SORTS[parse_sort(sort)[0]][1], str


def sort_value(n: PhoneNumber, sort: str | None) -> object:
    return getattr(n, SORTS[parse_sort(sort)[0]][0].key)


def list_numbers(ctx: Ctx, f: NumberFilter, *, sort: str | None, limit: int,
                 after: tuple[object, str] | None) -> list[PhoneNumber]:
    """Up to ``limit`` numbers by keyset: the cost of a page does not grow with its depth."""
    key, desc = parse_sort(sort)
    col = SORTS[key][0]
    q = filtered(ctx, f)
    if after is not None:
        value, last_id = after
        # A row-value comparison, not "col < v OR (col = v AND id < x)": both SQLite and
        # PostgreSQL seek straight to it in the (account_id, col, id) index, so a page
        # 50,000 rows deep costs what the first does.
        key_cols = tuple_(col, PhoneNumber.id)
        bound = tuple_(literal(value, col.type), literal(last_id, PhoneNumber.id.type))
        q = q.where(key_cols < bound if desc else key_cols > bound)
    order = (col.desc(), PhoneNumber.id.desc()) if desc else (col.asc(), PhoneNumber.id.asc())
    return list(ctx.session.scalars(q.order_by(*order).limit(limit)))


def count_by_status(ctx: Ctx, f: NumberFilter | None = None) -> dict[str, int]:
    base = filtered(ctx, f or NumberFilter()).subquery()
    rows = ctx.session.execute(select(base.c.status, func.count()).group_by(base.c.status))
    return {s: c for s, c in rows}


def monthly_cost(ctx: Ctx) -> dict[str, int]:
    """Monthly cost of the numbers that are billed (``lifecycle.BILLED``), per currency."""
    rows = ctx.session.execute(
        select(PhoneNumber.currency, func.sum(PhoneNumber.monthly_price_minor))
        .where(PhoneNumber.account_id == ctx.account_id,
               PhoneNumber.status.in_([s.value for s in lifecycle.BILLED]))
        .group_by(PhoneNumber.currency))
    return {c: int(a or 0) for c, a in rows}


def count_overdue(ctx: Ctx, now: dt.datetime) -> int:
    """Numbers still pending past ``lifecycle.provisioning_overdue`` (the setting's hours)."""
    before = lifecycle.overdue_if_bought_before(now, ctx.settings.provisioning_overdue_hours)
    return int(ctx.session.scalar(select(func.count()).select_from(PhoneNumber).where(
        PhoneNumber.account_id == ctx.account_id, PhoneNumber.status == Status.pending,
        PhoneNumber.purchased_at < before, PhoneNumber.returned_at.is_(None))) or 0)


def count_closing(ctx: Ctx, now: dt.datetime) -> int:
    """Released numbers whose reclaim window is ``lifecycle.closing_soon``."""
    return int(ctx.session.scalar(select(func.count()).select_from(PhoneNumber).where(
        PhoneNumber.account_id == ctx.account_id, PhoneNumber.status == Status.released,
        PhoneNumber.returned_at.is_(None), PhoneNumber.reclaim_deadline > now,
        PhoneNumber.reclaim_deadline <= now + lifecycle.CLOSING_WITHIN)) or 0)


def history(ctx: Ctx, number_id: str) -> list[StatusChange]:
    return list(ctx.session.scalars(
        select(StatusChange).where(StatusChange.account_id == ctx.account_id, StatusChange.number_id == number_id)
        .order_by(StatusChange.at, StatusChange.id)))


def held(ctx: Ctx) -> list[PhoneNumber]:
    """The numbers the account still holds (not returned), by E.164."""
    return list(ctx.session.scalars(
        select(PhoneNumber).where(
            PhoneNumber.account_id == ctx.account_id, PhoneNumber.returned_at.is_(None),
            PhoneNumber.status.in_([s.value for s in lifecycle.HELD]))
        .order_by(PhoneNumber.phone_number)))


def count_all(ctx: Ctx) -> int:
    return int(ctx.session.scalar(select(func.count()).where(PhoneNumber.account_id == ctx.account_id)) or 0)


def choices(ctx: Ctx, limit: int = 2000) -> list[tuple[str, str, str]]:
    """(id, E.164, friendly name) of the account's numbers, by name: for pickers."""
    return [tuple(r) for r in ctx.session.execute(  # type: ignore[misc]
        select(PhoneNumber.id, PhoneNumber.phone_number, PhoneNumber.friendly_name)
        .where(PhoneNumber.account_id == ctx.account_id).order_by(PhoneNumber.friendly_name, PhoneNumber.id)
        .limit(limit)).all()]
