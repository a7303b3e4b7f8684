"""Time-driven changes of numbers, registered with the worker.

Each sweep is a compare-and-set (``numbers.history.change``): it reads what is due,
then changes a row only if it is still in the state it read, so several workers at
once never apply a change twice. A change takes effect at the moment its rule says
(the carrier's provisioning time, the reclaim deadline, purchase + the overdue
hours), not when a sweep noticed it: with the sandbox clock jumping days ahead,
times stay exact. The queries only narrow the candidates; ``lifecycle`` decides.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from numberdesk.auth.context import system_ctx
from numberdesk.config import Settings
from numberdesk.kit.times import rfc3339
from numberdesk.numbers import history, lifecycle
from numberdesk.numbers.lifecycle import Action, Status
from numberdesk.numbers.models import PhoneNumber, StatusChange
from numberdesk.providers.registry import get_carrier
from numberdesk.worker.registry import sweep

BATCH = 500


@sweep("provisioning")
def sweep_provisioning(session: Session, settings: Settings, now: dt.datetime) -> int:
    """Turn pending numbers active once the carrier has provisioned them."""
    carrier = get_carrier(settings)
    due = session.execute(
        select(PhoneNumber.id, PhoneNumber.account_id, PhoneNumber.provider_ref,
               PhoneNumber.provisioning_due_at)
        .where(PhoneNumber.status == Status.pending, PhoneNumber.provisioning_due_at <= now,
               PhoneNumber.returned_at.is_(None))
        .order_by(PhoneNumber.provisioning_due_at).limit(BATCH)).all()
    done = 0
    for number_id, account_id, ref, due_at in due:
        if ref is None or carrier.order_status(session, ref, now).state != "active":
            continue
        # The change takes effect when the carrier finished, not when we noticed.
        at = min(due_at, now)
        changed = history.change(
            system_ctx(session, settings, account_id, at), number_id, current=Status.pending,
            action=Action.activate, reason="provisioned", event="number.activate",
            before={"status": Status.pending.value}, after={"status": Status.active.value},
            values={"activated_at": at, "updated_at": now})
        done += changed is not None
    return done


@sweep("provisioning_overdue")
def sweep_provisioning_overdue(session: Session, settings: Settings, now: dt.datetime) -> int:
    """Record once that a number has been pending for longer than the overdue hours."""
    hours = settings.provisioning_overdue_hours
    carrier = get_carrier(settings)
    due = session.execute(
        select(PhoneNumber.id, PhoneNumber.account_id, PhoneNumber.status, PhoneNumber.provider_ref,
               PhoneNumber.purchased_at)
        .where(PhoneNumber.status == Status.pending, PhoneNumber.provisioning_overdue_at.is_(None),
               PhoneNumber.returned_at.is_(None),
               PhoneNumber.purchased_at < lifecycle.overdue_if_bought_before(now, hours))
        .order_by(PhoneNumber.purchased_at).limit(BATCH)).all()
    done = 0
    for number_id, account_id, status, ref, purchased_at in due:
        if not lifecycle.provisioning_overdue(status, purchased_at, now, hours):
            continue
        # A number reactivated into pending long after its purchase is overdue from
        # the reactivation on, never before it: its history stays in order.
        spell_start = session.scalar(
            select(func.max(StatusChange.at))
            .where(StatusChange.number_id == number_id, StatusChange.to_status == Status.pending,
                   StatusChange.from_status.is_distinct_from(Status.pending)))
        at = max(lifecycle.provisioning_overdue_at(purchased_at, hours), spell_start or purchased_at)
        # Provisioned in time but not yet marked active (another worker's provisioning
        # sweep is about to): not overdue.
        if ref is not None and carrier.order_status(session, ref, at).state == "active":
            continue
        changed = history.change(
            system_ctx(session, settings, account_id, at), number_id, current=Status.pending, action=None,
            reason="provisioning_overdue", event="number.provisioning_overdue",
            before={"provisioning_overdue": False}, after={"provisioning_overdue": True, "hours": hours},
            where=(PhoneNumber.provisioning_overdue_at.is_(None),), values={"provisioning_overdue_at": at},
            touch=False)
        done += changed is not None
    return done


@sweep("reclaim_window")
def sweep_reclaim_window(session: Session, settings: Settings, now: dt.datetime) -> int:
    """Return released numbers whose reclaim window ended to the carrier, at the deadline."""
    carrier = get_carrier(settings)
    due = session.execute(
        select(PhoneNumber.id, PhoneNumber.account_id, PhoneNumber.status, PhoneNumber.provider_ref,
               PhoneNumber.phone_number, PhoneNumber.reclaim_deadline)
        .where(PhoneNumber.status == Status.released, PhoneNumber.returned_at.is_(None),
               PhoneNumber.reclaim_deadline <= now)
        .order_by(PhoneNumber.reclaim_deadline).limit(BATCH)).all()
    done = 0
    for number_id, account_id, status, ref, e164, deadline in due:
        if not lifecycle.reclaim_due(status, False, deadline, now):
            continue
        changed = history.change(
            system_ctx(session, settings, account_id, deadline), number_id, current=status,
            action=Action.expire, reason="returned_to_carrier", event="number.return",
            before={"returned": False}, after={"returned": True, "returned_at": rfc3339(deadline)},
            where=(PhoneNumber.returned_at.is_(None), PhoneNumber.reclaim_deadline == deadline),
            values={"returned_at": deadline, "updated_at": now})
        if changed is None:
            continue  # another worker (or a reactivation) got there first
        if ref is not None:
            # The carrier ages it from the deadline on before offering it to anyone.
            carrier.return_number(session, ref, e164, deadline)
        done += 1
    return done
