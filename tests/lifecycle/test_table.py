"""The status table and window rules, pure: every (status, action) pair, every boundary."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from numberdesk.errors import InvalidState
from numberdesk.numbers import lifecycle
from numberdesk.numbers.lifecycle import Action, Status

P, AC, IN, RE = Status.pending, Status.active, Status.inactive, Status.released

# What product.md says, written out independently of the code's table. None = refused.
EXPECTED: dict[Status, dict[Action, Status | None]] = {
    P: {Action.activate: AC, Action.deactivate: P, Action.restore: None, Action.assign: P,
        Action.unassign: P, Action.edit: P, Action.release: RE, Action.reactivate: None, Action.expire: None},
    AC: {Action.activate: None, Action.deactivate: IN, Action.restore: None, Action.assign: AC,
         Action.unassign: AC, Action.edit: AC, Action.release: RE, Action.reactivate: None,
         Action.expire: None},
    IN: {Action.activate: None, Action.deactivate: IN, Action.restore: AC, Action.assign: IN,
         Action.unassign: IN, Action.edit: IN, Action.release: RE, Action.reactivate: None,
         Action.expire: None},
    # Released numbers are never assigned; unassigning is always possible.
    RE: {Action.activate: None, Action.deactivate: None, Action.restore: None, Action.assign: None,
         Action.unassign: RE, Action.edit: RE, Action.release: None, Action.reactivate: AC,
         Action.expire: RE},
}

PAIRS = list(itertools.product(list(Status), list(Action)))


def test_expected_covers_every_pair() -> None:
    assert {(s, a) for s in EXPECTED for a in EXPECTED[s]} == set(PAIRS)


@pytest.mark.parametrize(("status", "action"), PAIRS, ids=[f"{s}-{a}" for s, a in PAIRS])
def test_every_pair(status: Status, action: Action) -> None:
    want = EXPECTED[status][action]
    assert lifecycle.allowed(status, action) is (want is not None)
    if want is None:
        with pytest.raises(InvalidState) as e:
            lifecycle.transition(status, action)
        assert e.value.code == "invalid_state"
        assert status.value in e.value.detail
    else:
        assert lifecycle.transition(status, action) is want


@pytest.mark.parametrize(("status", "action"), PAIRS, ids=[f"{s}-{a}" for s, a in PAIRS])
def test_returned_numbers_are_read_only(status: Status, action: Action) -> None:
    """After the window the record stays, read-only: only unassigning is still possible."""
    if action is Action.unassign and EXPECTED[status][action] is not None:
        assert lifecycle.transition(status, action, returned=True) is status
    else:
        with pytest.raises(InvalidState) as e:
            lifecycle.transition(status, action, returned=True)
        assert "read-only" in e.value.detail or status.value in e.value.detail


def test_groups() -> None:
    assert lifecycle.ASSIGNABLE == {P, AC, IN}
    assert lifecycle.RELEASABLE == {P, AC, IN}
    assert lifecycle.HELD == {P, AC, IN}
    assert lifecycle.ROUTES_CALLS == {AC}
    assert lifecycle.BILLED == {AC, IN}
    assert lifecycle.reactivated_status(needs_provisioning=False) is AC
    assert lifecycle.reactivated_status(needs_provisioning=True) is P


T0 = dt.datetime(2026, 3, 1, 12, 0, 0, 250_000, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)
TICK = dt.timedelta(microseconds=1)


def test_window_arithmetic() -> None:
    assert lifecycle.cooldown_ends_at(T0, 24) == T0 + dt.timedelta(hours=24)
    assert lifecycle.reclaim_deadline(T0, 10) == T0 + dt.timedelta(days=10)
    assert lifecycle.cooldown_ends_at(T0, 2) == T0 + dt.timedelta(hours=2)
    assert lifecycle.reclaim_deadline(T0, 3) == T0 + dt.timedelta(days=3)
    end = T0 + dt.timedelta(hours=24)
    assert lifecycle.in_cooldown(end - TICK, end)
    assert not lifecycle.in_cooldown(end, end)        # over at the exact instant
    deadline = T0 + dt.timedelta(days=10)
    assert lifecycle.window_open(deadline - TICK, deadline)
    assert not lifecycle.window_open(deadline, deadline)  # closed at the exact instant
    assert not lifecycle.reclaim_due("released", False, deadline, deadline - TICK)
    assert lifecycle.reclaim_due("released", False, deadline, deadline)
    assert not lifecycle.reclaim_due("released", True, deadline, deadline)   # already returned
    assert not lifecycle.reclaim_due("active", False, deadline, deadline)


def test_provisioning_overdue_after_48_hours() -> None:
    at = lifecycle.provisioning_overdue_at(T0)
    assert at == T0 + dt.timedelta(hours=48)
    assert not lifecycle.provisioning_overdue("pending", T0, at)
    assert lifecycle.provisioning_overdue("pending", T0, at + TICK)
    assert not lifecycle.provisioning_overdue("active", T0, at + SECOND)


def _elig(now: dt.datetime, **kw: object) -> lifecycle.Eligibility:
    args: dict[str, object] = {
        "status": "released", "returned": False, "now": now,
        "cooldown_end": T0 + dt.timedelta(hours=24), "deadline": T0 + dt.timedelta(days=10),
        "release_reason": "no_longer_needed", "carrier_holds": True, "past_due": False}
    args.update(kw)
    return lifecycle.reactivation_eligibility(**args)  # type: ignore[arg-type]


def _failing(e: lifecycle.Eligibility) -> list[tuple[str, str | None]]:
    return [(c.code, c.reason) for c in e.checks if not c.ok]


def test_eligibility_lists_every_check_in_order() -> None:
    e = _elig(T0 + dt.timedelta(days=2))
    assert e.eligible
    assert [(c.code, c.reason) for c in e.checks] == [
        ("invalid_state", None), ("in_cooldown", None), ("reclaim_window_expired", None),
        ("not_eligible", "spam_reported"), ("not_eligible", "carrier_released"), ("not_eligible", "past_due")]
    assert all(c.ok and c.detail for c in e.checks)
    assert e.first_failure() is None


@pytest.mark.parametrize(("offset", "in_cooldown"), [(-SECOND, True), (-TICK, True), (dt.timedelta(0), False),
                                                      (SECOND, False)])
def test_cooldown_boundary(offset: dt.timedelta, in_cooldown: bool) -> None:
    e = _elig(T0 + dt.timedelta(hours=24) + offset)
    assert e.eligible is not in_cooldown
    assert _failing(e) == ([("in_cooldown", None)] if in_cooldown else [])
    if in_cooldown:
        assert "2026-03-02 12:00:00 UTC" in e.first_failure().detail  # type: ignore[union-attr]


@pytest.mark.parametrize(("offset", "expired"), [(-SECOND, False), (-TICK, False), (dt.timedelta(0), True),
                                                 (SECOND, True)])
def test_reclaim_boundary(offset: dt.timedelta, expired: bool) -> None:
    e = _elig(T0 + dt.timedelta(days=10) + offset)
    assert e.eligible is not expired
    assert _failing(e) == ([("reclaim_window_expired", None)] if expired else [])


def test_each_ineligibility_is_named() -> None:
    now = T0 + dt.timedelta(days=2)
    assert _failing(_elig(now, release_reason="spam_reported")) == [("not_eligible", "spam_reported")]
    assert _failing(_elig(now, carrier_holds=False)) == [("not_eligible", "carrier_released")]
    assert _failing(_elig(now, past_due=True)) == [("not_eligible", "past_due")]
    assert _failing(_elig(now, returned=True)) == [("reclaim_window_expired", None)]
    # Several at once: all listed; the first in enforcement order is the one raised.
    e = _elig(T0 + SECOND, release_reason="spam_reported", past_due=True)
    assert _failing(e) == [("in_cooldown", None), ("not_eligible", "spam_reported"), ("not_eligible", "past_due")]
    assert e.first_failure().code == "in_cooldown"  # type: ignore[union-attr]


@pytest.mark.parametrize("status", ["pending", "active", "inactive"])
def test_only_released_numbers_are_eligible(status: str) -> None:
    e = lifecycle.reactivation_eligibility(
        status=status, returned=False, now=T0, cooldown_end=None, deadline=None, release_reason=None,
        carrier_holds=True, past_due=False)
    assert not e.eligible
    assert _failing(e) == [("invalid_state", None)]
    assert e.cooldown_ends_at is None and e.reclaim_deadline is None


@pytest.mark.parametrize(("reason", "text", "ack", "fields"), [
    ("no_longer_needed", None, True, []),
    ("cost_reduction", None, True, []),
    ("replaced", "", True, []),
    ("spam_reported", None, True, []),
    ("other", "moving to another carrier", True, []),
    ("other", None, True, ["reason_text"]),
    ("other", "   ", True, ["reason_text"]),
    ("no_longer_needed", None, False, ["acknowledge"]),
    ("other", None, False, ["reason_text", "acknowledge"]),
    ("because", None, True, ["reason"]),
])
def test_release_request_errors(reason: str, text: str | None, ack: bool, fields: list[str]) -> None:
    assert [e["field"] for e in lifecycle.release_request_errors(reason, text, ack)] == fields
