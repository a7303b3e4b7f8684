"""The number inventory: buy, list, edit, assign. The only writer of phone_numbers
apart from the lifecycle operations in ``numbers/release.py``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, exists, func, literal, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from numberdesk.accounts.models import Account
from numberdesk.agents.models import Agent
from numberdesk.audit import service as audit
from numberdesk.context import Ctx
from numberdesk.errors import NotFound, NumberUnavailable, ValidationFailed
from numberdesk.ids import new_id
from numberdesk.kit import phone
from numberdesk.numbers import lifecycle
from numberdesk.numbers.lifecycle import Action, Status
from numberdesk.numbers.models import NumberTag, PhoneNumber, StatusChange
from numberdesk.pools.models import Pool
from numberdesk.providers.base import Exclude, Listing, SearchQuery, keypad_digits
from numberdesk.providers.reconcile import adoptable
from numberdesk.providers.registry import get_carrier
from numberdesk.system.service import ensure_no_maintenance

MAX_TAGS = 20
SORTS = {
    "purchased_at": PhoneNumber.purchased_at,
    "phone_number": PhoneNumber.phone_number,
    "friendly_name": PhoneNumber.friendly_name,
    "monthly_price": PhoneNumber.monthly_price_minor,
    "status": PhoneNumber.status,
}


# -- searching the carrier -----------------------------------------------------
def taken_numbers(session: Session) -> Exclude:
    """The carrier's ``exclude``: of the given E.164s, those an account holds or has on hold."""

    def taken(numbers: list[str]) -> set[str]:
        return set(session.scalars(select(PhoneNumber.phone_number).where(
            PhoneNumber.phone_number.in_(numbers), PhoneNumber.returned_at.is_(None))))

    return taken


def search_available(ctx: Ctx, query: SearchQuery) -> list[Listing]:
    ctx.require("read")
    if query.contains:
        try:
            keypad_digits(query.contains)
        except ValueError:
            raise ValidationFailed.field(
                "contains", "may hold digits, letters (keypad) and * (any one digit)") from None
    return get_carrier(ctx.settings).search(ctx.session, query, ctx.now(), exclude=taken_numbers(ctx.session))


# -- reading --------------------------------------------------------------------
def get(ctx: Ctx, number_id: str) -> PhoneNumber:
    ctx.require("read")
    return _get(ctx, number_id)


def _get(ctx: Ctx, number_id: str) -> PhoneNumber:
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


def tags_of(ctx: Ctx, number_ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {i: [] for i in number_ids}
    if number_ids:
        for nid, tag in ctx.session.execute(
            select(NumberTag.number_id, NumberTag.tag)
            .where(NumberTag.account_id == ctx.account_id, NumberTag.number_id.in_(number_ids))
            .order_by(NumberTag.tag)):
            out[nid].append(tag)
    return out


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


def _filtered(ctx: Ctx, f: NumberFilter) -> Select[tuple[PhoneNumber]]:
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
    sort = sort or "-purchased_at"
    desc = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in SORTS:
        raise ValidationFailed.field("sort", f"must be one of {', '.join(SORTS)} (prefix - for descending)")
    return key, desc


def list_numbers(
    ctx: Ctx, f: NumberFilter, *, sort: str | None, limit: int, after: tuple[object, str] | None
) -> list[PhoneNumber]:
    """A page of numbers by keyset: the cost of a page does not grow with its depth."""
    ctx.require("read")
    key, desc = parse_sort(sort)
    col = SORTS[key]
    q = _filtered(ctx, f)
    if after is not None:
        value, last_id = after
        # A row-value comparison, not "col < v OR (col = v AND id < x)": both SQLite and
        # PostgreSQL seek straight to it in the (account_id, col, id) index, so a page
        # 50,000 rows deep costs what the first does.
        key_cols = tuple_(col, PhoneNumber.id)
        bound = tuple_(literal(value, col.type), literal(last_id, PhoneNumber.id.type))
        q = q.where(key_cols < bound if desc else key_cols > bound)
    order = (col.desc(), PhoneNumber.id.desc()) if desc else (col.asc(), PhoneNumber.id.asc())
    return list(ctx.session.scalars(q.order_by(*order).limit(limit + 1)))


def sort_value(n: PhoneNumber, sort: str | None) -> object:
    key, _ = parse_sort(sort)
    return getattr(n, SORTS[key].key)


def count_by_status(ctx: Ctx, f: NumberFilter | None = None) -> dict[str, int]:
    ctx.require("read")
    base = _filtered(ctx, f or NumberFilter()).subquery()
    rows = ctx.session.execute(select(base.c.status, func.count()).group_by(base.c.status))
    return {s: c for s, c in rows}


def monthly_cost(ctx: Ctx) -> dict[str, int]:
    """Monthly cost of the numbers that are billed (active, inactive), per currency."""
    ctx.require("read")
    rows = ctx.session.execute(
        select(PhoneNumber.currency, func.sum(PhoneNumber.monthly_price_minor))
        .where(PhoneNumber.account_id == ctx.account_id,
               PhoneNumber.status.in_([s.value for s in lifecycle.BILLED]))
        .group_by(PhoneNumber.currency))
    return {c: int(a or 0) for c, a in rows}


@dataclass
class Attention:
    overdue: int      # pending for longer than the overdue threshold
    inactive: int
    closing: int      # released, reclaim window ends within ``within``


def attention(ctx: Ctx, within: dt.timedelta = dt.timedelta(hours=48)) -> Attention:
    """Counts of the numbers that need a person: overdue, inactive, reclaim window closing soon."""
    ctx.require("read")
    now = ctx.now()
    base = select(func.count()).select_from(PhoneNumber).where(PhoneNumber.account_id == ctx.account_id)
    overdue_before = now - dt.timedelta(hours=ctx.settings.provisioning_overdue_hours)
    overdue = ctx.session.scalar(base.where(
        PhoneNumber.status == Status.pending, PhoneNumber.purchased_at < overdue_before,
        PhoneNumber.returned_at.is_(None)))
    inactive = ctx.session.scalar(base.where(PhoneNumber.status == Status.inactive))
    closing = ctx.session.scalar(base.where(
        PhoneNumber.status == Status.released, PhoneNumber.returned_at.is_(None),
        PhoneNumber.reclaim_deadline > now, PhoneNumber.reclaim_deadline <= now + within))
    return Attention(overdue=int(overdue or 0), inactive=int(inactive or 0), closing=int(closing or 0))


def history(ctx: Ctx, number_id: str) -> list[StatusChange]:
    ctx.require("read")
    _get(ctx, number_id)
    return list(ctx.session.scalars(
        select(StatusChange).where(StatusChange.account_id == ctx.account_id, StatusChange.number_id == number_id)
        .order_by(StatusChange.at, StatusChange.id)))


# -- writing ----------------------------------------------------------------------
def snapshot(n: PhoneNumber) -> dict[str, object]:
    return {
        "status": n.status, "status_reason": n.status_reason, "friendly_name": n.friendly_name,
        "department": n.department, "agent_id": n.agent_id, "pool_id": n.pool_id,
    }


def record_status(ctx: Ctx, n: PhoneNumber, old: str | None, new: str, reason: str | None) -> None:
    ctx.session.add(StatusChange(account_id=n.account_id, number_id=n.id, from_status=old, to_status=new,
                                 reason=reason, actor=ctx.actor, at=ctx.now()))


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


def _set_tags(ctx: Ctx, n: PhoneNumber, tags: list[str]) -> None:
    current = set(tags_of(ctx, [n.id])[n.id])
    for t in current - set(tags):
        ctx.session.execute(NumberTag.__table__.delete().where(
            NumberTag.number_id == n.id, NumberTag.tag == t))
    for t in tags:
        if t not in current:
            ctx.session.add(NumberTag(number_id=n.id, tag=t, account_id=ctx.account_id))


def default_friendly_name(ctx: Ctx, listing: Listing, department: str | None) -> str:
    account = ctx.session.get(Account, ctx.account_id)
    template = account.naming_template if account else None
    if not template:
        return listing.national_format
    seq = ctx.session.scalar(select(func.count()).where(PhoneNumber.account_id == ctx.account_id)) or 0
    values = {
        "department": department or "general", "area_code": listing.area_code or "",
        "country": listing.country, "type": listing.type, "locality": listing.locality or "",
        "seq": f"{seq + 1:03d}",
    }
    try:
        return template.format(**values)[:200]
    except (KeyError, IndexError, ValueError):
        return listing.national_format


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
        department=(department or None), status=Status.pending, agent_id=agent_id,
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
    _set_tags(ctx, n, tags)
    record_status(ctx, n, None, Status.pending, "purchased")
    audit.record(ctx, "number.purchase", "number", n.id, None,
                 {**snapshot(n), "phone_number": e164, "tags": tags,
                  "monthly_price_minor": n.monthly_price_minor, "currency": n.currency,
                  **({"adopted_carrier_order": order.ref} if adopted else {})})
    ctx.session.flush()
    return n


def update_number(ctx: Ctx, number_id: str, changes: dict[str, object]) -> PhoneNumber:
    ctx.require("numbers.edit")
    n = get_for_update(ctx, number_id)
    lifecycle.transition(n.status, Action.edit, returned=n.returned_at is not None)
    before = {**snapshot(n), "tags": tags_of(ctx, [n.id])[n.id]}
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
        _set_tags(ctx, n, tags)
    n.updated_at = ctx.now()
    n.version += 1
    audit.record(ctx, "number.update", "number", n.id, before, {**snapshot(n), "tags": tags})
    return n


def _agent(ctx: Ctx, agent_id: str) -> Agent:
    agent = ctx.session.scalar(select(Agent).where(Agent.id == agent_id, Agent.account_id == ctx.account_id))
    if agent is None:
        raise NotFound(f"No agent {agent_id} in this account.")
    return agent


def assign(ctx: Ctx, number_id: str, *, agent_id: str | None = None, pool_id: str | None = None) -> PhoneNumber:
    ctx.require("numbers.assign")
    if (agent_id is None) == (pool_id is None):
        raise ValidationFailed("Give exactly one of agent_id or pool_id.",
                               [{"field": "agent_id", "detail": "give agent_id or pool_id, not both"}])
    n = get_for_update(ctx, number_id)
    lifecycle.transition(n.status, Action.assign, returned=n.returned_at is not None)
    before = snapshot(n)
    if agent_id is not None:
        _agent(ctx, agent_id)
    else:
        if ctx.session.scalar(select(Pool.id).where(Pool.id == pool_id, Pool.account_id == ctx.account_id)) is None:
            raise NotFound(f"No pool {pool_id} in this account.")
    n.agent_id, n.pool_id = agent_id, pool_id
    n.updated_at = ctx.now()
    n.version += 1
    audit.record(ctx, "number.assign", "number", n.id, before, snapshot(n))
    return n


def unassign(ctx: Ctx, number_id: str) -> PhoneNumber:
    ctx.require("numbers.assign")
    n = get_for_update(ctx, number_id)
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


# -- time-driven: provisioning ------------------------------------------------------
def sweep_provisioning(session, settings, now: dt.datetime) -> int:  # type: ignore[no-untyped-def]
    """Turn pending numbers active once the carrier has provisioned them.

    Compare-and-set: ``UPDATE … WHERE status='pending'`` acts only if one row
    changed, so several workers never activate (or bill) a number twice.
    """
    carrier = get_carrier(settings)
    due = session.execute(
        select(PhoneNumber.id, PhoneNumber.account_id, PhoneNumber.provider_ref,
               PhoneNumber.provisioning_due_at)
        .where(PhoneNumber.status == Status.pending, PhoneNumber.provisioning_due_at <= now,
               PhoneNumber.returned_at.is_(None))
        .order_by(PhoneNumber.provisioning_due_at).limit(500)).all()
    done = 0
    for number_id, account_id, ref, due_at in due:
        if ref is None or carrier.order_status(session, ref, now) != "active":
            continue
        # The change takes effect when the carrier finished, not when we noticed:
        # with the sandbox clock jumping days ahead, times stay right to the second.
        at = min(due_at, now)
        changed = session.execute(
            update(PhoneNumber)
            .where(PhoneNumber.id == number_id, PhoneNumber.status == Status.pending)
            .values(status=Status.active, activated_at=at, updated_at=now,
                    version=PhoneNumber.version + 1)).rowcount
        if changed != 1:
            continue  # Nothing got updated: another worker process got there first.
        session.add(StatusChange(account_id=account_id, number_id=number_id, from_status="pending",
                                 to_status="active", reason="provisioned", actor="system", at=at))
        from numberdesk.audit.models import AuditEvent
        session.add(AuditEvent(id=new_id("evt"), account_id=account_id, actor="system",
                               action="number.activate", target_type="number", target_id=number_id,
                               before={"status": "pending"}, after={"status": "active"}, at=at))
        done += 1
    return done
