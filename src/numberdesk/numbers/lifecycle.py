"""The status table of a number and the arithmetic of its windows: pure, no I/O.

This is the only place these rules live; services, the dashboard and the CLI ask
it. A service checks ``transition(status, action)`` and gets the new status or a
typed ``InvalidState`` error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from numberdesk.errors import InvalidState
from numberdesk.kit.times import span, utc_text


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

# A bought number starts here; it turns active once the carrier has provisioned it.
INITIAL = S.pending

# Named groups.
HELD = frozenset({S.pending, S.active, S.inactive})          # in the inventory
ASSIGNABLE = frozenset(s for (s, a) in TRANSITIONS if a is A.assign)
RELEASABLE = frozenset(s for (s, a) in TRANSITIONS if a is A.release)
ROUTES_CALLS = frozenset({S.active})
BILLED = frozenset({S.active, S.inactive})

def allowed(status: str, action: Action) -> bool:
    return (Status(status), action) in TRANSITIONS


def can(status: str, action: Action, *, returned: bool = False) -> bool:
    """Whether ``transition`` would allow ``action`` (what a page offers); a returned number
    can only be unassigned."""
    return (not returned or action is A.unassign) and allowed(status, action)


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
            f"A {current.value} number cannot be {_PAST[action]}.", number_status=current.value
        ) from None


_PAST = {
    A.activate: "activated", A.deactivate: "deactivated", A.restore: "restored",
    A.assign: "assigned", A.unassign: "unassigned", A.edit: "edited",
    A.release: "released", A.reactivate: "reactivated", A.expire: "expired",
}


def reactivated_status(needs_provisioning: bool) -> Status:
    """What reactivation leads to: ``active``, or ``pending`` when the carrier must provision again."""
    return S.pending if needs_provisioning else TRANSITIONS[(S.released, A.reactivate)]


# -- releasing ----------------------------------------------------------------------
# Why a release is refused although the number's status allows it (api.md: blockers).
ACTIVE_CALLS = "active_calls"
HAS_DEPENDENCIES = "has_dependencies"


def release_request_errors(reason: str, reason_text: str | None, acknowledge: bool) -> list[dict[str, str]]:
    """The field errors of a release request; empty when it is complete."""
    errors = []
    if reason not in ReleaseReason.__members__:
        errors.append({"field": "reason", "detail": f"must be one of {', '.join(ReleaseReason)}"})
    elif reason == ReleaseReason.other and not (reason_text or "").strip():
        errors.append({"field": "reason_text", "detail": "say why when the reason is other"})
    if acknowledge is not True:
        errors.append({"field": "acknowledge",
                       "detail": "must be true: confirm that the number will be disconnected"})
    return errors


def cooldown_ends_at(released_at: dt.datetime, cooldown_hours: int) -> dt.datetime:
    return released_at + dt.timedelta(hours=cooldown_hours)


def reclaim_deadline(released_at: dt.datetime, reclaim_days: int) -> dt.datetime:
    return released_at + dt.timedelta(days=reclaim_days)


def in_cooldown(now: dt.datetime, cooldown_end: dt.datetime) -> bool:
    """The cooldown has ended at ``cooldown_end`` exactly."""
    return now < cooldown_end


def window_open(now: dt.datetime, deadline: dt.datetime) -> bool:
    """The reclaim window ends at ``deadline`` exactly (the worker returns the number then)."""
    return now < deadline


# The inventory audit and the dashboard flag a reclaim window that closes this soon.
CLOSING_WITHIN = dt.timedelta(hours=48)


def window_ended(now: dt.datetime, deadline: dt.datetime | None, returned: bool) -> bool:
    """A released number's reclaim window is over: it went back to the carrier, or its deadline passed."""
    return returned or (deadline is not None and not window_open(now, deadline))


def reclaim_due(status: str, returned: bool, deadline: dt.datetime | None, now: dt.datetime) -> bool:
    """True when a released number must go back to the carrier."""
    return status == S.released and not returned and deadline is not None and not window_open(now, deadline)


# -- reactivation eligibility -------------------------------------------------------
@dataclass
class Check:
    code: str      # the error code this check raises when it fails
    ok: bool
    detail: str
    reason: str | None = field(default=None)  # for not_eligible: spam_reported, carrier_released, past_due


@dataclass
class Eligibility:
    eligible: bool
    cooldown_ends_at: dt.datetime | None
    reclaim_deadline: dt.datetime | None
    checks: list[Check]

    def first_failure(self) -> Check | None:
        return next((c for c in self.checks if not c.ok), None)


def _when(t: dt.datetime) -> str:
    return utc_text(t, seconds=True)


def reactivation_eligibility(
    *,
    status: str,
    returned: bool,
    now: dt.datetime,
    cooldown_end: dt.datetime | None,
    deadline: dt.datetime | None,
    release_reason: str | None,
    carrier_holds: bool,
    past_due: bool,
) -> Eligibility:
    """Every condition of a reactivation with its state, in the order they are enforced.

    (That the caller's account released the number is enforced before this: another
    account is told the number does not exist.)
    """
    if status != S.released or cooldown_end is None or deadline is None:
        return Eligibility(False, None, None, [Check(
            "invalid_state", False,
            f"Only released numbers can be reactivated; this one is {status}.")])
    checks = [Check("invalid_state", True, "The number is released.")]
    if in_cooldown(now, cooldown_end):
        left = int((cooldown_end - now).total_seconds() + 0.999)
        checks.append(Check("in_cooldown", False,
                            f"The cooldown ends at {_when(cooldown_end)} ({span(left, 'clock')} from now)."))
    else:
        checks.append(Check("in_cooldown", True, f"The cooldown ended at {_when(cooldown_end)}."))
    if returned or not window_open(now, deadline):
        checks.append(Check("reclaim_window_expired", False,
                            f"The reclaim window ended at {_when(deadline)}; the number went back to the "
                            "carrier. Search available numbers for a similar one."))
    else:
        checks.append(Check("reclaim_window_expired", True,
                            f"The reclaim window is open until {_when(deadline)}."))
    spam = release_reason == ReleaseReason.spam_reported
    checks.append(Check("not_eligible", not spam,
                        "It was released as spam_reported, so it cannot come back." if spam
                        else "It was not released as spam_reported.", "spam_reported"))
    checks.append(Check("not_eligible", carrier_holds,
                        "The carrier still holds the number for this account." if carrier_holds
                        else "The carrier no longer holds the number.", "carrier_released"))
    checks.append(Check("not_eligible", not past_due,
                        "The account is past due: settle the balance first." if past_due
                        else "The account is in good standing.", "past_due"))
    return Eligibility(all(c.ok for c in checks), cooldown_end, deadline, checks)


# -- provisioning -------------------------------------------------------------------
def provisioning_overdue(
    status: str, purchased_at: dt.datetime, now: dt.datetime, hours: int = 48
) -> bool:
    return status == S.pending and now - purchased_at > dt.timedelta(hours=hours)


def provisioning_overdue_at(purchased_at: dt.datetime, hours: int = 48) -> dt.datetime:
    """The moment a number still pending becomes overdue (the guide: contact support after 48 h;
    ``settings.provisioning_overdue_hours``)."""
    return purchased_at + dt.timedelta(hours=hours)


def overdue_if_bought_before(now: dt.datetime, hours: int = 48) -> dt.datetime:
    """``provisioning_overdue`` as a bound for queries: a number still pending that was
    bought before this instant is overdue now."""
    return now - dt.timedelta(hours=hours)


def closing_soon(now: dt.datetime, deadline: dt.datetime | None, within: dt.timedelta = CLOSING_WITHIN) -> bool:
    """A released number's reclaim window is still open but ends within ``within`` (48 h)."""
    return deadline is not None and window_open(now, deadline) and deadline <= now + within
