"""Time-driven changes of numbers, registered with the worker.

Each sweep is a compare-and-set: it reads what is due, then changes a row only if
it is still in the state it read (``UPDATE … WHERE id=? AND …``, rowcount 1), so
several workers at once never apply a change twice. A change takes effect at the
moment its rule says (the reclaim deadline, purchase + 48 h), not when a sweep
noticed it: with the sandbox clock jumping days ahead, times stay exact.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from numberdesk.audit.models import AuditEvent
from numberdesk.config import Settings
from numberdesk.ids import new_id
from numberdesk.numbers import lifecycle
from numberdesk.numbers.lifecycle import Status
from numberdesk.numbers.models import PhoneNumber, StatusChange
from numberdesk.numbers.service import sweep_provisioning
from numberdesk.providers.registry import get_carrier
from numberdesk.worker import sweep

BATCH = 500

sweep("provisioning")(sweep_provisioning)


def _record(session: Session, account_id: str, number_id: str, status: str, reason: str, action: str,
            at: dt.datetime, before: dict[str, object], after: dict[str, object]) -> None:
    """The history row and the one audit row of a change the system made."""
    session.add(StatusChange(account_id=account_id, number_id=number_id, from_status=status,
                             to_status=status, reason=reason, actor="system", at=at))
    session.add(AuditEvent(id=new_id("evt"), account_id=account_id, actor="system", action=action,
                           target_type="number", target_id=number_id, before=before, after=after, at=at))


@sweep("provisioning_overdue")
def sweep_provisioning_overdue(session: Session, settings: Settings, now: dt.datetime) -> int:
    """Record once that a number has been pending for more than 48 hours."""
    hours = settings.provisioning_overdue_hours
    carrier = get_carrier(settings)
    due = session.execute(
        select(PhoneNumber.id, PhoneNumber.account_id, PhoneNumber.provider_ref, PhoneNumber.purchased_at)
        .where(PhoneNumber.status == Status.pending, PhoneNumber.provisioning_overdue_at.is_(None),
               PhoneNumber.returned_at.is_(None),
               PhoneNumber.purchased_at < now - dt.timedelta(hours=hours))
        .order_by(PhoneNumber.purchased_at).limit(BATCH)).all()
    done = 0
    for number_id, account_id, ref, purchased_at in due:
        # A number reactivated into pending long after its purchase is overdue from
        # the reactivation on, never before it: its history stays in order.
        spell_start = session.scalar(
            select(func.max(StatusChange.at))
            .where(StatusChange.number_id == number_id, StatusChange.to_status == Status.pending,
                   StatusChange.from_status.is_distinct_from(Status.pending)))
        at = max(lifecycle.provisioning_overdue_at(purchased_at, hours), spell_start or purchased_at)
        # Provisioned in time but not yet marked active (another worker's provisioning
        # sweep is about to): not overdue.
        if ref is not None and carrier.order_status(session, ref, at) == "active":
            continue
        changed = session.execute(
            update(PhoneNumber)
            .where(PhoneNumber.id == number_id, PhoneNumber.status == Status.pending,
                   PhoneNumber.provisioning_overdue_at.is_(None))
            .values(provisioning_overdue_at=at)).rowcount
        if changed != 1:
            continue  # Nothing got updated: another worker process got there first.
        _record(session, account_id, number_id, Status.pending, "provisioning_overdue",
                "number.provisioning_overdue", at, {"provisioning_overdue": False},
                {"provisioning_overdue": True, "hours": hours})
        done += 1
    return done


@sweep("reclaim_window")
def sweep_reclaim_window(session: Session, settings: Settings, now: dt.datetime) -> int:
    """Return released numbers whose reclaim window ended to the carrier, at the deadline."""
    carrier = get_carrier(settings)
    due = session.execute(
        select(PhoneNumber.id, PhoneNumber.account_id, PhoneNumber.provider_ref, PhoneNumber.phone_number,
               PhoneNumber.reclaim_deadline)
        .where(PhoneNumber.status == Status.released, PhoneNumber.returned_at.is_(None),
               PhoneNumber.reclaim_deadline <= now)
        .order_by(PhoneNumber.reclaim_deadline).limit(BATCH)).all()
    done = 0
    for number_id, account_id, ref, e164, deadline in due:
        assert deadline is not None  # selected by ``reclaim_deadline <= now``
        changed = session.execute(
            update(PhoneNumber)
            .where(PhoneNumber.id == number_id, PhoneNumber.status == Status.released,
                   PhoneNumber.returned_at.is_(None), PhoneNumber.reclaim_deadline == deadline)
            .values(returned_at=deadline, updated_at=now, version=PhoneNumber.version + 1)).rowcount
        if changed != 1:
            continue  # Nothing got updated: another worker (or a reactivation) got there first.
        if ref is not None:
            # The carrier ages it from the deadline on before offering it to anyone.
            carrier.return_number(session, ref, e164, deadline)
        _record(session, account_id, number_id, Status.released, "returned_to_carrier", "number.return",
                deadline, {"returned": False}, {"returned": True, "returned_at": deadline.isoformat()
                                                .replace("+00:00", "Z")})
        done += 1
    return done
