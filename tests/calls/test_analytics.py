"""Analytics, exact on hand-built calls: local days and weeks across DST changes and midnight,
the busy hour, missed rate, average duration of answered calls, late records, CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.calls.helpers import call, ingest


def _tz(persona: Any, tz: str) -> None:
    r = persona.patch("/v1/account", {"timezone": tz})
    assert r.status_code == 200, r.text


def _get(persona: Any, **params: Any) -> dict[str, Any]:
    r = persona.get("/v1/analytics", params=params, role="viewer")
    assert r.status_code == 200, r.text
    return r.json()


def _points(result: dict[str, Any]) -> list[tuple[str, int, int, int, float | None]]:
    return [(s["start"], s["calls"], s["answered"], s["missed"], s["avg_duration_seconds"])
            for s in result["series"]]


# New York, around the spring-forward night of 2026-03-08 (02:00 EST → 03:00 EDT).
SPRING = [
    ("2026-03-08T04:50:00Z", "completed", 300),  # Sat 23:50 EST, talks past midnight
    ("2026-03-08T06:30:00Z", "no_answer", 0),    # Sun 01:30 EST
    ("2026-03-08T07:15:00Z", "completed", 120),  # Sun 03:15 EDT (02:xx does not exist)
    ("2026-03-08T14:00:00Z", "completed", 60),   # Sun 10:00 EDT
    ("2026-03-08T14:20:00Z", "busy", 0),         # Sun 10:20 EDT
    ("2026-03-08T14:45:00Z", "canceled", 0),     # Sun 10:45 EDT (abandoned)
    ("2026-03-09T03:59:00Z", "failed", 0),       # Sun 23:59 EDT
    ("2026-03-09T04:00:00Z", "completed", 30),   # Mon 00:00 EDT
]


def _spring(alice: Any, number: str) -> None:
    ingest(alice, [call(number, t, status, talk=talk) for t, status, talk in SPRING])


def test_days_weeks_and_hours_across_spring_forward(alice) -> None:  # type: ignore[no-untyped-def]
    _tz(alice, "America/New_York")
    n = alice.buy()
    _spring(alice, n["phone_number"])

    day = _get(alice, **{"from": "2026-03-07", "to": "2026-03-10", "granularity": "day"})
    assert (day["total_calls"], day["answered_calls"], day["missed_calls"]) == (8, 4, 4)
    assert day["missed_rate"] == 0.5
    assert day["avg_duration_seconds"] == 127.5          # (300 + 120 + 60 + 30) / 4, answered calls only
    assert day["busy_hour"] == 10
    hours = {h["hour"]: h["calls"] for h in day["hour_of_day"] if h["calls"]}
    assert hours == {23: 2, 0: 1, 1: 1, 3: 1, 10: 3}
    # Local midnights: Sunday is 23 hours long.
    assert _points(day) == [
        ("2026-03-07T05:00:00Z", 1, 1, 0, 300.0),
        ("2026-03-08T05:00:00Z", 6, 2, 4, 90.0),
        ("2026-03-09T04:00:00Z", 1, 1, 0, 30.0),
    ]
    assert [s["local_start"] for s in day["series"]] == [
        "2026-03-07T00:00:00-05:00", "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00"]
    assert day["from"] == "2026-03-07T05:00:00Z" and day["to"] == "2026-03-10T04:00:00Z"

    hour = _get(alice, **{"from": "2026-03-08", "to": "2026-03-09", "granularity": "hour"})
    assert len(hour["series"]) == 23
    by_local = {s["local_start"]: (s["start"], s["calls"]) for s in hour["series"] if s["calls"]}
    assert by_local == {
        "2026-03-08T01:00:00-05:00": ("2026-03-08T06:00:00Z", 1),
        "2026-03-08T03:00:00-04:00": ("2026-03-08T07:00:00Z", 1),
        "2026-03-08T10:00:00-04:00": ("2026-03-08T14:00:00Z", 3),
        "2026-03-08T23:00:00-04:00": ("2026-03-09T03:00:00Z", 1),
    }
    assert hour["total_calls"] == 6 and hour["busy_hour"] == 10

    week = _get(alice, **{"from": "2026-03-02", "to": "2026-03-16", "granularity": "week"})
    assert _points(week) == [("2026-03-02T05:00:00Z", 7, 3, 4, 160.0), ("2026-03-09T04:00:00Z", 1, 1, 0, 30.0)]
    # A period that does not start on a Monday still buckets by Monday-started weeks.
    week = _get(alice, **{"from": "2026-03-08", "to": "2026-03-10", "granularity": "week"})
    assert [s["start"] for s in week["series"]] == ["2026-03-02T05:00:00Z", "2026-03-09T04:00:00Z"]
    assert week["total_calls"] == 7

    # An unaligned period: the partial quarter hours at both ends are counted exactly.
    part = _get(alice, **{"from": "2026-03-08T14:10:00Z", "to": "2026-03-08T14:50:00Z", "granularity": "hour"})
    assert (part["total_calls"], part["missed_calls"], part["source"]) == (2, 2, "rollup")
    part = _get(alice, **{"from": "2026-03-08T14:00:00Z", "to": "2026-03-08T14:45:00Z", "granularity": "hour"})
    assert (part["total_calls"], part["answered_calls"]) == (2, 1)


def test_fall_back_repeats_an_hour_and_lengthens_the_day(alice) -> None:  # type: ignore[no-untyped-def]
    _tz(alice, "America/New_York")
    n = alice.buy()["phone_number"]
    ingest(alice, [call(n, "2026-11-01T05:30:00Z", talk=40),    # 01:30 EDT
                   call(n, "2026-11-01T06:30:00Z", talk=80),    # 01:30 EST, the same local hour again
                   call(n, "2026-11-02T04:30:00Z", "busy"),     # 23:30 EST, still Sunday
                   call(n, "2026-11-02T05:00:00Z", "no_answer")])  # Monday 00:00 EST
    day = _get(alice, **{"from": "2026-11-01", "to": "2026-11-03"})
    assert _points(day) == [("2026-11-01T04:00:00Z", 3, 2, 1, 60.0), ("2026-11-02T05:00:00Z", 1, 0, 1, None)]
    assert day["busy_hour"] == 1
    hour = _get(alice, **{"from": "2026-11-01", "to": "2026-11-02", "granularity": "hour"})
    assert len(hour["series"]) == 25
    twice = [(s["start"], s["local_start"], s["calls"]) for s in hour["series"] if s["local_start"][11:13] == "01"]
    assert twice == [("2026-11-01T05:00:00Z", "2026-11-01T01:00:00-04:00", 1),
                     ("2026-11-01T06:00:00Z", "2026-11-01T01:00:00-05:00", 1)]


def test_half_hour_zone_and_a_zone_off_the_quarter_hour(alice) -> None:  # type: ignore[no-untyped-def]
    n = alice.buy()["phone_number"]
    _tz(alice, "Asia/Kolkata")  # UTC+5:30: local hours start at :30 UTC
    ingest(alice, [call(n, "2026-06-01T18:29:00Z"), call(n, "2026-06-01T18:30:00Z"),
                   call(n, "2026-06-01T19:10:00Z", "busy")])
    day = _get(alice, **{"from": "2026-06-01", "to": "2026-06-03"})
    assert _points(day) == [("2026-05-31T18:30:00Z", 1, 1, 0, 60.0), ("2026-06-01T18:30:00Z", 2, 1, 1, 60.0)]
    assert day["busy_hour"] == 0 and day["source"] == "rollup"
    hour = _get(alice, **{"from": "2026-06-02", "to": "2026-06-02T02:00:00", "granularity": "hour"})
    assert [(s["start"], s["calls"]) for s in hour["series"]] == [
        ("2026-06-01T18:30:00Z", 2), ("2026-06-01T19:30:00Z", 0)]

    # Monrovia kept UTC-0:44:30 until 1972: quarter-hour rollups cannot split its hours,
    # so the records themselves are read.
    _tz(alice, "Africa/Monrovia")
    ingest(alice, [call(n, "1971-06-01T12:40:00Z"), call(n, "1971-06-01T12:50:00Z", "no_answer")])
    old = _get(alice, **{"from": "1971-06-01", "to": "1971-06-02", "granularity": "hour"})
    assert old["source"] == "raw" and old["total_calls"] == 2
    # 12:40 UTC is 11:55:30 local, 12:50 UTC is 12:05:30 local: two local hours.
    assert {h["hour"]: h["calls"] for h in old["hour_of_day"] if h["calls"]} == {11: 1, 12: 1}
    assert [s["local_start"] for s in old["series"] if s["calls"]] == [
        "1971-06-01T11:00:00-00:44:30", "1971-06-01T12:00:00-00:44:30"]


def test_per_number_per_agent_and_late_records(alice, bob) -> None:  # type: ignore[no-untyped-def]
    _tz(alice, "America/New_York")
    agent = alice.agent()
    a = alice.buy(agent_id=agent["id"])
    b = alice.buy()
    _spring(alice, a["phone_number"])
    ingest(alice, [call(b["phone_number"], "2026-03-08T15:00:00Z", talk=600),
                   call(b["phone_number"], "2026-03-08T15:05:00Z", "no_answer")])
    period = {"from": "2026-03-07", "to": "2026-03-10"}
    account = _get(alice, **period)
    assert (account["total_calls"], account["answered_calls"]) == (10, 5)
    assert account["avg_duration_seconds"] == 222.0   # (510 + 600) / 5
    only_b = _get(alice, **period, number_id=b["id"])
    assert (only_b["total_calls"], only_b["missed_rate"], only_b["avg_duration_seconds"], only_b["busy_hour"]) == (
        2, 0.5, 600.0, 11)
    by_agent = _get(alice, **period, agent_id=agent["id"])
    assert (by_agent["total_calls"], by_agent["avg_duration_seconds"], by_agent["busy_hour"]) == (8, 127.5, 10)
    both = _get(alice, **period, number_id=a["id"], agent_id=agent["id"])
    assert (both["total_calls"], both["source"]) == (8, "raw")
    assert _points(both) == _points(by_agent)

    # A late record (arriving after the first query) lands in its own hour and day, exactly.
    ingest(alice, [call(a["phone_number"], "2026-03-08T14:05:00Z", talk=250),
                   call(a["phone_number"], "2026-03-08T14:55:00Z", talk=10)])
    late = _get(alice, **period, number_id=a["id"])
    assert (late["total_calls"], late["answered_calls"], late["busy_hour"]) == (10, 6, 10)
    assert late["avg_duration_seconds"] == round((300 + 120 + 60 + 30 + 250 + 10) / 6, 1)
    assert [p[1] for p in _points(late)] == [1, 8, 1]
    assert _get(alice, **period)["total_calls"] == 12

    # Scoping and checks.
    assert bob.get("/v1/analytics", params={"number_id": a["id"]}).status_code == 404
    assert bob.get("/v1/analytics", params={"agent_id": agent["id"]}).status_code == 404
    assert _get(bob, **period)["total_calls"] == 0
    for bad in ({"from": "2026-03-10", "to": "2026-03-07"}, {"from": "yesterday"},
                {"granularity": "minute"}, {"from": "2020-01-01", "to": "2026-01-01", "granularity": "hour"}):
        assert alice.get("/v1/analytics", params=bad).status_code == 422, bad

    r = alice.get("/v1/analytics.csv", params={**period, "granularity": "day"}, role="viewer")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(x["start"], x["calls"], x["missed"]) for x in rows] == [
        ("2026-03-07T05:00:00Z", "1", "0"), ("2026-03-08T05:00:00Z", "10", "5"), ("2026-03-09T04:00:00Z", "1", "0")]
