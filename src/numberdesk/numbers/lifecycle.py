"""The status table of a number and the arithmetic of its windows: pure, no I/O.

This is the only place these rules live; services, the dashboard and the CLI ask
it. A service checks ``transition(status, action)`` and gets the new status or a
typed ``InvalidState`` error.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from numberdesk.errors import InvalidState


class Status(StrEnum):
    pending = "pending"
    active = "active"
    inactive = "inactive"
    released = "released"


class Action(StrEnum):
    activate = "activate"        # the carrier finished provisioning
    deactivate = "deactivate"    # billing or configuration problem
    restore = "restore"          # the problem is resolved
    assign = "assign"
    unassign = "unassign"
    edit = "edit"                # rename, tag, department
    release = "release"
    reactivate = "reactivate"
    expire = "expire"            # reclaim window ended: the number goes back to the carrier


class InactiveReason(StrEnum):
    billing = "billing"
    configuration = "configuration"


class ReleaseReason(StrEnum):
    no_longer_needed = "no_longer_needed"
    cost_reduction = "cost_reduction"
    replaced = "replaced"
    spam_reported = "spam_reported"
    other = "other"


S, A = Status, Action

# (status, action) → status after the action. A pair missing here is refused.
TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (S.pending, A.activate): S.active,
    (S.pending, A.assign): S.pending,
    (S.pending, A.unassign): S.pending,
    (S.pending, A.edit): S.pending,
    (S.pending, A.release): S.released,      # cancels the order
    (S.pending, A.deactivate): S.pending,    # past due while pending: nothing to stop yet
    (S.active, A.deactivate): S.inactive,
    (S.active, A.assign): S.active,
    (S.active, A.unassign): S.active,
    (S.active, A.edit): S.active,
    (S.active, A.release): S.released,
    (S.inactive, A.restore): S.active,
    (S.inactive, A.deactivate): S.inactive,  # a second cause while already inactive
    (S.inactive, A.assign): S.inactive,
    (S.inactive, A.unassign): S.inactive,
    (S.inactive, A.edit): S.inactive,
    (S.inactive, A.release): S.released,
    (S.released, A.unassign): S.released,    # unassigning is always possible
    (S.released, A.edit): S.released,
    (S.released, A.reactivate): S.active,    # or pending when the carrier must provision again
    (S.released, A.expire): S.released,
}

# Named groups.
HELD = frozenset({S.pending, S.active, S.inactive})          # in the inventory
ASSIGNABLE = frozenset(s for (s, a) in TRANSITIONS if a is A.assign)
ROUTES_CALLS = frozenset({S.active})
BILLED = frozenset({S.active, S.inactive})

PROVISIONING_OVERDUE = dt.timedelta(hours=48)


def allowed(status: str, action: Action) -> bool:
    return (Status(status), action) in TRANSITIONS


def transition(status: str, action: Action, *, returned: bool = False) -> Status:
    """The status after ``action``; ``InvalidState`` when the table has no such pair."""
    current = Status(status)
    if returned and action is not A.unassign:
        raise InvalidState(
            "This number's reclaim window has ended and it went back to the carrier; "
            "its record is read-only."
        )
    try:
        return TRANSITIONS[(current, action)]
    except KeyError:
        raise InvalidState(
            f"A {current.value} number cannot be {_PAST[action]}.", status=current.value
        ) from None


_PAST = {
    A.activate: "activated", A.deactivate: "deactivated", A.restore: "restored",
    A.assign: "assigned", A.unassign: "unassigned", A.edit: "edited",
    A.release: "released", A.reactivate: "reactivated", A.expire: "expired",
}


def cooldown_ends_at(released_at: dt.datetime, cooldown_hours: int) -> dt.datetime:
    return released_at + dt.timedelta(hours=cooldown_hours)


def reclaim_deadline(released_at: dt.datetime, reclaim_days: int) -> dt.datetime:
    return released_at + dt.timedelta(days=reclaim_days)


def provisioning_overdue(
    status: str, purchased_at: dt.datetime, now: dt.datetime, hours: int = 48
) -> bool:
    return status == S.pending and now - purchased_at > dt.timedelta(hours=hours)
