"""The one writer of a number's status, and of the rows every change leaves.

Each change is asked of the lifecycle table (``lifecycle.transition``), applied
compare-and-set (``UPDATE … WHERE id = ? AND status = ?``: it happens only if the
number is still in the state the caller read, so racing requests and workers never
apply it twice), and writes its history row and its audit row in the same
transaction, at the context's time (a sweep's context carries the moment the rule
says the change took effect).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, update

from numberdesk.audit import service as audit
from numberdesk.auth.context import Ctx
from numberdesk.numbers import lifecycle
from numberdesk.numbers.lifecycle import Action, Status
from numberdesk.numbers.models import PhoneNumber, StatusChange

Snapshot = dict[str, object]


def snapshot(n: PhoneNumber) -> Snapshot:
    """What the audit log shows of a number before and after a change."""
    return {
        "status": n.status, "status_reason": n.status_reason, "friendly_name": n.friendly_name,
        "department": n.department, "agent_id": n.agent_id, "pool_id": n.pool_id,
    }


def _history(ctx: Ctx, number_id: str, old: str | None, new: str, reason: str | None) -> None:
    ctx.session.add(StatusChange(account_id=ctx.account_id, number_id=number_id, from_status=old, to_status=new,
                                 reason=reason, actor=ctx.actor, at=ctx.now()))


def purchased(ctx: Ctx, n: PhoneNumber, after: Snapshot) -> None:
    """The rows of a new number: history ``→ pending`` (purchased) and the purchase's audit row."""
    _history(ctx, n.id, None, lifecycle.INITIAL, "purchased")
    audit.record(ctx, "number.purchase", "number", n.id, None, after)


def change(
    ctx: Ctx, number_id: str, *, current: str, action: Action | None, reason: str | None, event: str,
    before: Snapshot, after: Snapshot | Callable[[], Snapshot], to: Status | None = None,
    where: tuple[ColumnElement[bool], ...] = (), values: dict[str, Any] | None = None,
    returned: bool = False, touch: bool = True,
) -> Status | None:
    """Apply ``action`` to a number still ``current`` (and matching ``where``), with ``values``.

    ``action`` None records a fact that leaves the status as it is (a cause added or
    resolved, provisioning overdue, returned to the carrier). ``to`` names the outcome
    where the table allows two (reactivation: ``pending`` while the carrier provisions
    again). Returns the new status, or None when the number is no longer ``current``
    (another worker or request got there first): then nothing was written.
    """
    new = Status(current) if action is None else lifecycle.transition(current, action, returned=returned)
    if to is not None:
        if action is not Action.reactivate or to is not lifecycle.reactivated_status(to is Status.pending):
            raise ValueError(f"{action} cannot lead to {to}")
        new = to
    row: dict[str, Any] = {"status": new}
    if touch:
        row |= {"updated_at": ctx.now(), "version": PhoneNumber.version + 1}
    row |= values or {}
    changed = ctx.session.execute(
        update(PhoneNumber)
        .where(PhoneNumber.id == number_id, PhoneNumber.account_id == ctx.account_id,
               PhoneNumber.status == current, *where)
        .values(**row)).rowcount
    if changed != 1:
        return None  # Nothing got updated: another worker process (or request) got there first.
    _history(ctx, number_id, current, new, reason)
    audit.record(ctx, event, "number", number_id, before, after() if callable(after) else after)
    return new
