"""The billing ledger: writing charges (worker) and reading them (owners).

The worker charges a number once per cycle it was billable in, from its status
history, so the ledger is right however far the clock jumped between two
passes; the unique (number, cycle) constraint makes racing workers harmless.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from numberdesk.billing import ledger
from numberdesk.billing.models import Charge
from numberdesk.billing.sql import insert_many_ignore
from numberdesk.config import Settings
from numberdesk.context import Ctx
from numberdesk.errors import ValidationFailed
from numberdesk.numbers import lifecycle
from numberdesk.numbers.lifecycle import Status
from numberdesk.numbers.models import PhoneNumber, StatusChange

BATCH = 500
BILLED = [s.value for s in lifecycle.BILLED]
# Counted in the projection of the next cycle: billed now, or expected to be once provisioned.
PROJECTED = [*BILLED, Status.pending.value]


# -- writing (worker) -------------------------------------------------------------------
def settle_number(session: Session, number_id: str, now: dt.datetime) -> int:
    """Charge every cycle up to ``now`` the number owes and has not been charged; returns how many."""
    n = session.execute(
        select(PhoneNumber.id, PhoneNumber.account_id, PhoneNumber.monthly_price_minor, PhoneNumber.currency,
               PhoneNumber.department, PhoneNumber.status, PhoneNumber.activated_at, PhoneNumber.purchased_at)
        .where(PhoneNumber.id == number_id)).one()
    changes = [(at, to) for at, to in session.execute(
        select(StatusChange.at, StatusChange.to_status)
        .where(StatusChange.number_id == number_id)
        .order_by(StatusChange.at, StatusChange.id))]
    if not changes:
        # A number written without its history (imported): billable from its activation.
        changes = [(n.activated_at or n.purchased_at, n.status)]
    intervals = ledger.billable_intervals(changes, until=now)
    if not intervals:
        return 0
    owed = ledger.cycles_to_charge(intervals, intervals[0].first_cycle(), ledger.cycle_of(now))
    charged = set(session.scalars(select(Charge.cycle).where(Charge.number_id == number_id)))
    rows = [_charge_row(n, c, ledger.charge_due_at(intervals, c) or now) for c in owed if c not in charged]
    return insert_many_ignore(session, Charge.__table__, rows)


def _charge_row(number: Any, cycle: str, due: dt.datetime) -> dict[str, Any]:
    return {"account_id": number.account_id, "number_id": number.id, "cycle": cycle,
            "period_start": ledger.cycle_start(cycle), "period_end": ledger.cycle_end(cycle),
            "amount_minor": number.monthly_price_minor, "currency": number.currency,
            "department": number.department, "created_at": due}


def renew_unchanged(session: Session, now: dt.datetime) -> int:
    """The common case at a cycle start, set-based: a number billable now whose status has not
    changed since the end of its last charged cycle was billable all along, so it owes every
    cycle from there to now, each due at the cycle's first instant."""
    current = ledger.cycle_of(now)
    paid_until = (select(func.max(Charge.period_end)).where(Charge.number_id == PhoneNumber.id)
                  .correlate(PhoneNumber).scalar_subquery())
    q = (select(PhoneNumber.id, PhoneNumber.account_id, PhoneNumber.monthly_price_minor, PhoneNumber.currency,
                PhoneNumber.department, paid_until.label("paid_until"))
         .where(PhoneNumber.status.in_(BILLED),
                ~exists().where(Charge.number_id == PhoneNumber.id, Charge.cycle == current),
                paid_until.is_not(None),
                ~exists().where(StatusChange.number_id == PhoneNumber.id, StatusChange.at >= paid_until))
         .order_by(PhoneNumber.id))
    done, after = 0, ""
    while True:
        batch = session.execute(q.where(PhoneNumber.id > after).limit(BATCH)).all()
        rows = [_charge_row(n, c, ledger.cycle_start(c))
                for n in batch for c in ledger.cycles(ledger.cycle_of(n.paid_until), current)]
        done += insert_many_ignore(session, Charge.__table__, rows)
        if len(batch) < BATCH:
            return done
        after = batch[-1].id


def sweep_charges(session: Session, settings: Settings, now: dt.datetime) -> int:
    """Charge what is owed: at activation, at each cycle start, and after clock jumps.

    Two kinds of numbers can owe a charge: those billable now without a charge for
    the current cycle, and those that stopped being billable after the end of the
    last cycle they were charged for (released before the worker saw the new cycle).
    Every other number is settled up to now already.
    """
    current = ledger.cycle_of(now)
    unpaid_now = (
        select(PhoneNumber.id)
        .where(PhoneNumber.status.in_(BILLED),
               ~exists().where(Charge.number_id == PhoneNumber.id, Charge.cycle == current)))
    left_unpaid = (
        select(PhoneNumber.id)
        .where(PhoneNumber.status.not_in(BILLED),
               exists().where(
                   StatusChange.number_id == PhoneNumber.id,
                   StatusChange.from_status.in_(BILLED), StatusChange.to_status.not_in(BILLED),
                   StatusChange.at <= now,
                   ~exists().where(Charge.number_id == StatusChange.number_id,
                                   Charge.period_end >= StatusChange.at))))
    done = renew_unchanged(session, now)
    for query in (unpaid_now, left_unpaid):
        after = ""
        while True:
            ids = session.scalars(query.where(PhoneNumber.id > after).order_by(PhoneNumber.id).limit(BATCH)).all()
            for number_id in ids:
                done += settle_number(session, number_id, now)
            if len(ids) < BATCH:
                break
            after = ids[-1]
    return done


# -- reading (owners) -------------------------------------------------------------------
def _cycle(ctx: Ctx, cycle: str | None) -> str:
    if cycle is None:
        return ledger.cycle_of(ctx.now())
    try:
        return ledger.parse_cycle(cycle)
    except ValueError:
        raise ValidationFailed.field("cycle", "must be a month such as 2026-03 (YYYY-MM)") from None


@dataclass
class ChargeLine:
    id: int
    number_id: str
    phone_number: str
    friendly_name: str
    department: str | None
    cycle: str
    amount_minor: int
    currency: str
    charged_at: dt.datetime


def _lines(ctx: Ctx, cycle: str):  # type: ignore[no-untyped-def]
    return (
        select(Charge.id, Charge.number_id, PhoneNumber.phone_number, PhoneNumber.friendly_name,
               Charge.department, Charge.cycle, Charge.amount_minor, Charge.currency, Charge.created_at)
        .join(PhoneNumber, PhoneNumber.id == Charge.number_id)
        .where(Charge.account_id == ctx.account_id, Charge.cycle == cycle))


def list_charges(ctx: Ctx, cycle: str | None, *, limit: int, after: int | None = None) -> tuple[str, list[ChargeLine]]:
    """A page (``limit + 1`` rows, to tell if there is more) of a cycle's charges, in charge order."""
    ctx.require("billing.read")
    cycle = _cycle(ctx, cycle)
    q = _lines(ctx, cycle)
    if after is not None:
        q = q.where(Charge.id > after)
    rows = ctx.session.execute(q.order_by(Charge.id).limit(limit + 1)).all()
    return cycle, [ChargeLine(*r) for r in rows]


def all_charges(ctx: Ctx, cycle: str | None) -> tuple[str, list[ChargeLine]]:
    """Every charge of a cycle (for the CSV export)."""
    ctx.require("billing.read")
    cycle = _cycle(ctx, cycle)
    rows = ctx.session.execute(_lines(ctx, cycle).order_by(Charge.id)).all()
    return cycle, [ChargeLine(*r) for r in rows]


def cycle_totals(ctx: Ctx, cycle: str | None) -> tuple[str, dict[str, int]]:
    """The total of a cycle's charges per currency."""
    ctx.require("billing.read")
    cycle = _cycle(ctx, cycle)
    rows = ctx.session.execute(
        select(Charge.currency, func.sum(Charge.amount_minor))
        .where(Charge.account_id == ctx.account_id, Charge.cycle == cycle)
        .group_by(Charge.currency).order_by(Charge.currency))
    return cycle, {c: int(a or 0) for c, a in rows}


@dataclass
class DepartmentCost:
    department: str | None
    currency: str
    amount_minor: int
    numbers: int


@dataclass
class Summary:
    cycle: str
    charges_to_date: dict[str, int]
    projected_next_cycle: dict[str, int]
    projected_numbers: int
    by_department: list[DepartmentCost]


def summary(ctx: Ctx) -> Summary:
    """This cycle's charges so far, by department, and what the next cycle will cost.

    The projection counts every number that is billed now (active, inactive) or
    is being provisioned (pending), at its monthly price; released numbers owe
    nothing after the cycle of their release and are left out.
    """
    ctx.require("billing.read")
    cycle, to_date = cycle_totals(ctx, None)
    proj_rows = ctx.session.execute(
        select(PhoneNumber.currency, func.sum(PhoneNumber.monthly_price_minor), func.count())
        .where(PhoneNumber.account_id == ctx.account_id, PhoneNumber.returned_at.is_(None),
               PhoneNumber.status.in_(PROJECTED))
        .group_by(PhoneNumber.currency).order_by(PhoneNumber.currency)).all()
    dept_rows = ctx.session.execute(
        select(Charge.department, Charge.currency, func.sum(Charge.amount_minor), func.count())
        .where(Charge.account_id == ctx.account_id, Charge.cycle == cycle)
        .group_by(Charge.department, Charge.currency)).all()
    by_department = sorted(
        (DepartmentCost(d, c, int(a or 0), int(k)) for d, c, a, k in dept_rows),
        key=lambda x: (-x.amount_minor, x.department is None, x.department or "", x.currency))
    return Summary(
        cycle=cycle, charges_to_date=to_date,
        projected_next_cycle={c: int(a or 0) for c, a, _ in proj_rows},
        projected_numbers=sum(int(k) for _, _, k in proj_rows),
        by_department=by_department)


def cycles_with_charges(ctx: Ctx, limit: int = 24) -> list[str]:
    """The most recent cycles that have charges, newest first (for the dashboard's picker)."""
    ctx.require("billing.read")
    return list(ctx.session.scalars(
        select(Charge.cycle).where(Charge.account_id == ctx.account_id)
        .group_by(Charge.cycle).order_by(Charge.cycle.desc()).limit(limit)))
