"""The ledger's pure rules, table-driven with explicit instants."""

from __future__ import annotations

import datetime as dt

import pytest

from numberdesk.billing import ledger
from numberdesk.billing.ledger import Interval


def t(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s).replace(tzinfo=dt.UTC)


def owed(changes: list[tuple[str, str]], now: str, first: str | None = None) -> list[str]:
    intervals = ledger.billable_intervals([(t(a), s) for a, s in changes], until=t(now))
    if not intervals:
        return []
    return ledger.cycles_to_charge(intervals, first or intervals[0].first_cycle(), ledger.cycle_of(t(now)))


CASES = [
    # (name, status changes, now, cycles owed)
    ("pending only: nothing", [("2026-01-10", "pending")], "2026-04-01", []),
    ("activation mid-month", [("2026-01-10", "pending"), ("2026-01-15 12:00", "active")],
     "2026-01-20", ["2026-01"]),
    ("still active three months on", [("2026-01-15", "active")], "2026-04-02", ["2026-01", "2026-02", "2026-03", "2026-04"]),
    ("active Jan 15 to Mar 3, released", [("2026-01-15", "active"), ("2026-03-03", "released")],
     "2026-06-01", ["2026-01", "2026-02", "2026-03"]),
    ("released Jan 20, reactivated Mar 5: not Feb",
     [("2026-01-15", "active"), ("2026-01-20", "released"), ("2026-03-05", "active")],
     "2026-03-06", ["2026-01", "2026-03"]),
    ("released on the last second of the cycle",
     [("2026-01-15", "active"), ("2026-01-31 23:59:59", "released")], "2026-03-01", ["2026-01"]),
    ("released at the first instant of the next cycle: not billed then",
     [("2026-01-15", "active"), ("2026-02-01 00:00:00", "released")], "2026-03-01", ["2026-01"]),
    ("released one second into the next cycle: billed then",
     [("2026-01-15", "active"), ("2026-02-01 00:00:01", "released")], "2026-03-01", ["2026-01", "2026-02"]),
    ("reactivated in the same cycle: once",
     [("2026-01-15", "active"), ("2026-01-20", "released"), ("2026-01-25", "active")], "2026-01-31", ["2026-01"]),
    ("reactivated in the next cycle",
     [("2026-01-15", "active"), ("2026-01-20", "released"), ("2026-02-02", "active")], "2026-02-10",
     ["2026-01", "2026-02"]),
    ("inactive (past due) is still billed",
     [("2026-01-15", "active"), ("2026-02-10", "inactive"), ("2026-03-20", "active")], "2026-04-15",
     ["2026-01", "2026-02", "2026-03", "2026-04"]),
    ("inactive the whole month is billed",
     [("2026-01-15", "active"), ("2026-01-31", "inactive")], "2026-02-20", ["2026-01", "2026-02"]),
    ("released while pending: never billed",
     [("2026-01-15", "pending"), ("2026-01-16", "released")], "2026-05-01", []),
    ("reactivated as pending, then provisioned later",
     [("2026-01-15", "active"), ("2026-01-20", "released"), ("2026-02-25", "pending"), ("2026-03-01 00:00:30", "active")],
     "2026-03-02", ["2026-01", "2026-03"]),
    ("a change after now is not known yet",
     [("2026-01-15", "active"), ("2026-05-01", "released")], "2026-02-10", ["2026-01", "2026-02"]),
    ("year boundary", [("2026-12-31 23:00", "active")], "2027-01-01 00:00:01", ["2026-12", "2027-01"]),
    ("leap-year February: activated on the 29th",
     [("2028-02-29 23:59:59", "active"), ("2028-03-01 00:00:00", "released")], "2028-04-01", ["2028-02"]),
    ("leap-year February: active from the 29th into March",
     [("2028-02-29 12:00", "active"), ("2028-03-01 00:00:01", "released")], "2028-04-01", ["2028-02", "2028-03"]),
    ("a single instant of activity is a moment",
     [("2026-01-15", "active"), ("2026-01-15", "released")], "2026-02-01", ["2026-01"]),
]


@pytest.mark.parametrize(("name", "changes", "now", "expected"), CASES, ids=[c[0] for c in CASES])
def test_cycles_owed(name: str, changes: list[tuple[str, str]], now: str, expected: list[str]) -> None:
    assert owed(changes, now) == expected


def test_cycle_range_limits_what_is_charged() -> None:
    iv = [Interval(t("2026-01-15"), None)]
    assert ledger.cycles_to_charge(iv, "2026-03", "2026-05") == ["2026-03", "2026-04", "2026-05"]
    assert ledger.cycles_to_charge(iv, "2026-06", "2026-05") == []
    assert ledger.cycles_to_charge([Interval(t("2026-01-15"), t("2026-01-20"))], "2026-02", "2026-05") == []


def test_leap_february_bounds() -> None:
    assert ledger.cycle_start("2028-02") == t("2028-02-01")
    assert ledger.cycle_end("2028-02") == t("2028-03-01")
    assert ledger.cycle_end("2028-02") - ledger.cycle_start("2028-02") == dt.timedelta(days=29)
    assert ledger.cycle_end("2027-02") - ledger.cycle_start("2027-02") == dt.timedelta(days=28)
    assert ledger.cycle_of(t("2028-02-29 23:59:59.999999")) == "2028-02"
    assert ledger.cycle_of(t("2028-03-01")) == "2028-03"


def test_cycle_arithmetic() -> None:
    assert ledger.next_cycle("2026-12") == "2027-01"
    assert ledger.previous_cycle("2027-01") == "2026-12"
    assert ledger.cycles("2026-11", "2027-02") == ["2026-11", "2026-12", "2027-01", "2027-02"]
    assert ledger.cycle_of(dt.datetime(2026, 1, 31, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))) == "2026-02"
    for bad in ("2026-13", "2026-1", "26-01", "", "2026-00", "2026/01"):
        with pytest.raises(ValueError):
            ledger.parse_cycle(bad)


def test_charge_falls_due_at_activation_or_cycle_start() -> None:
    iv = ledger.billable_intervals([(t("2026-01-15 08:00"), "active"), (t("2026-01-20"), "released"),
                                    (t("2026-03-05"), "active")], until=t("2026-04-10"))
    assert ledger.charge_due_at(iv, "2026-01") == t("2026-01-15 08:00")
    assert ledger.charge_due_at(iv, "2026-02") is None
    assert ledger.charge_due_at(iv, "2026-03") == t("2026-03-05")
    assert ledger.charge_due_at(iv, "2026-04") == t("2026-04-01")
