"""The billing ledger (writing charges: worker; reading them: owners) and the account's billing
status, which holds its numbers inactive while past due.

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

from numberdesk.accounts.models import Account, BillingStatus
from numberdesk.accounts.service import get_account_by_id
from numberdesk.audit import service as audit
from numberdesk.auth.context import Ctx, system_ctx
from numberdesk.billing import ledger
from numberdesk.billing.models import Charge
from numberdesk.config import Settings
from numberdesk.errors import ValidationFailed
from numberdesk.kit import pagination
from numberdesk.kit.sql import insert_many_ignore
from numberdesk.numbers import holds, lifecycle
from numberdesk.numbers.lifecycle import InactiveReason, Status
from numberdesk.numbers.models import InactiveCause, PhoneNumber, StatusChange
from numberdesk.runtime import AppState

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


def charges_page(ctx: Ctx, cycle: str | None, *, limit: int,
                 cursor: str | None) -> tuple[str, list[ChargeLine], str | None]:
    """A page of a cycle's charges in charge order, and the cursor of the next page."""
    after = pagination.decode(cursor, kinds=(int,))[0] if cursor else None
    name, rows = list_charges(ctx, cycle, limit=limit, after=after)
    page, next_cursor = pagination.page(rows, limit, lambda x: (x.id,))
    return name, page, next_cursor


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


# -- the account's billing status ---------------------------------------------------------
def follow_account_status(ctx: Ctx, status: BillingStatus) -> int:
    """Past due holds every active number inactive (billing); good releases that hold.

    Returns how many numbers changed status.
    """
    if status == BillingStatus.past_due:
        ids = ctx.session.scalars(
            select(PhoneNumber.id)
            .where(PhoneNumber.account_id == ctx.account_id, PhoneNumber.returned_at.is_(None),
                   PhoneNumber.status.in_([Status.active, Status.inactive]))
            .order_by(PhoneNumber.id)).all()
        outcomes = [holds.hold(ctx, i, InactiveReason.billing) for i in ids]
    else:
        ids = ctx.session.scalars(
            select(InactiveCause.number_id)
            .where(InactiveCause.account_id == ctx.account_id, InactiveCause.cause == InactiveReason.billing)
            .order_by(InactiveCause.number_id)).all()
        outcomes = [holds.release_hold(ctx, i, InactiveReason.billing) for i in ids]
    return sum(o is holds.Outcome.status for o in outcomes)


def set_account_status(st: AppState, account_id: str, status: BillingStatus | str) -> int:
    """Mark the account past due or good (an operator's action, in a transaction of its own);
    returns how many numbers changed status as a consequence."""
    try:
        status = BillingStatus(status)
    except ValueError:
        raise ValidationFailed.field("status", f"must be one of {', '.join(BillingStatus)}") from None
    with st.db.session() as s:
        account = get_account_by_id(s, account_id)
        ctx = system_ctx(s, st.settings, account_id, st.clock.now())
        before = account.billing_status
        account.billing_status = status.value
        audit.record(ctx, "account.billing_status", "account", account_id,
                     {"billing_status": before}, {"billing_status": status.value})
        return follow_account_status(ctx, status)


def sweep_billing_holds(session: Session, settings: Settings, now: dt.datetime) -> int:
    """Keep number status in step with the account's billing status.

    A number that turns active while its account is past due (provisioning
    finished, say) is held inactive from the moment it turned active.
    """
    done = 0
    last_change = (select(func.max(StatusChange.at)).where(StatusChange.number_id == PhoneNumber.id)
                   .correlate(PhoneNumber).scalar_subquery())
    unheld = session.execute(
        select(PhoneNumber.id, PhoneNumber.account_id, PhoneNumber.status, last_change)
        .join(Account, Account.id == PhoneNumber.account_id)
        .where(Account.billing_status == BillingStatus.past_due, PhoneNumber.returned_at.is_(None),
               PhoneNumber.status.in_([Status.active, Status.inactive]),
               ~exists().where(InactiveCause.number_id == PhoneNumber.id,
                               InactiveCause.cause == InactiveReason.billing))
        .order_by(PhoneNumber.id).limit(500)).all()
    for number_id, account_id, status, changed_at in unheld:
        # An active number turned active while past due: held from that moment on.
        at = min(changed_at or now, now) if status == Status.active else now
        ctx = system_ctx(session, settings, account_id, at)
        done += holds.hold(ctx, number_id, InactiveReason.billing) is not holds.Outcome.none
    stale = session.execute(
        select(InactiveCause.number_id, InactiveCause.account_id)
        .join(Account, Account.id == InactiveCause.account_id)
        .where(InactiveCause.cause == InactiveReason.billing, Account.billing_status == BillingStatus.good)
        .order_by(InactiveCause.number_id).limit(500)).all()
    for number_id, account_id in stale:
        ctx = system_ctx(session, settings, account_id, now)
        done += holds.release_hold(ctx, number_id, InactiveReason.billing) is not holds.Outcome.none
    return done


def held_for_billing(ctx: Ctx) -> int:
    """How many of the account's numbers its past-due status holds inactive."""
    ctx.require("billing.read")
    return int(ctx.session.scalar(
        select(func.count()).select_from(InactiveCause).join(PhoneNumber, PhoneNumber.id == InactiveCause.number_id)
        .where(InactiveCause.account_id == ctx.account_id, InactiveCause.cause == InactiveReason.billing,
               PhoneNumber.status == Status.inactive)) or 0)
