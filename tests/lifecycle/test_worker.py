"""The worker: every time-driven change applied once, at the moment its rule says,
however many workers sweep at the same time."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
from collections import Counter

from sqlalchemy import select

from numberdesk.audit.models import AuditEvent
from numberdesk.db import Database
from numberdesk.numbers.models import StatusChange
from numberdesk.worker.runner import run_due
from tests.conftest import settings_env
from tests.lifecycle.helpers import release, ts


def _switch(persona, name: str, enabled: bool) -> None:  # type: ignore[no-untyped-def]
    r = persona.client.put(f"/v1/sandbox/switches/{name}", json={"enabled": enabled}, headers=persona.headers)
    assert r.status_code == 200, r.text


def _due_work(app, alice, each: int = 4) -> dict[str, list[dict]]:  # type: ignore[no-untyped-def,type-arg]
    """Numbers of every kind of due change, then the clock moved 11 days without sweeping."""
    to_return = [alice.buy() for _ in range(each)]
    alice.advance(61)
    to_return = [release(alice, n["id"]).json() for n in to_return]
    _switch(alice, "stall_provisioning", True)
    stalled = [alice.buy() for _ in range(each)]
    _switch(alice, "stall_provisioning", False)
    provisioning = [alice.buy() for _ in range(each)]
    app.state.nd.clock.advance(11 * 86400)  # the clock only: no sweep has run
    for n in stalled + provisioning:
        assert alice.number(n["id"])["status"] == "pending"
    return {"returned_to_carrier": to_return, "provisioning_overdue": stalled, "provisioned": provisioning}


def _changes(app, account_id: str) -> tuple[Counter, Counter]:  # type: ignore[type-arg,no-untyped-def]
    with app.state.nd.db.session(write=False) as s:
        history = Counter(s.execute(select(StatusChange.number_id, StatusChange.reason)
                                    .where(StatusChange.account_id == account_id)).tuples().all())
        audit = Counter(s.execute(select(AuditEvent.target_id, AuditEvent.action)
                                  .where(AuditEvent.account_id == account_id,
                                         AuditEvent.actor == "system")).tuples().all())
    return history, audit


def _assert_each_once(app, alice, work) -> None:  # type: ignore[no-untyped-def]
    history, audit = _changes(app, alice.account_id)
    action = {"returned_to_carrier": "number.return", "provisioning_overdue": "number.provisioning_overdue",
              "provisioned": "number.activate"}
    for reason, numbers in work.items():
        for n in numbers:
            assert history[(n["id"], reason)] == 1, (reason, n["id"], history)
            assert audit[(n["id"], action[reason])] == 1, (reason, n["id"], audit)
    # Nothing else happened to them (a provisioned number is not overdue, and so on).
    for reason, numbers in work.items():
        for n in numbers:
            swept = {r for (nid, r) in history if nid == n["id"] and r in action}
            assert swept == ({"provisioned", reason} if reason == "returned_to_carrier" else {reason})

    for n in work["returned_to_carrier"]:
        out = alice.number(n["id"])
        assert out["returned_to_carrier"] is True
        rows = alice.get(f"/v1/numbers/{n['id']}/history").json()["data"]
        assert ts(rows[-1]["at"]) == ts(n["release"]["reclaim_deadline"])
    for n in work["provisioning_overdue"]:
        out = alice.number(n["id"])
        assert out["status"] == "pending" and out["provisioning_overdue"] is True
        rows = alice.get(f"/v1/numbers/{n['id']}/history").json()["data"]
        assert [(r["from"], r["to"], r["reason"]) for r in rows] == [
            (None, "pending", "purchased"), ("pending", "pending", "provisioning_overdue")]
        assert ts(rows[1]["at"]) - ts(out["purchased_at"]) == dt.timedelta(hours=48)
    for n in work["provisioned"]:
        out = alice.number(n["id"])
        assert out["status"] == "active"
        assert ts(out["activated_at"]) - ts(out["purchased_at"]) == dt.timedelta(seconds=60)


def test_two_worker_processes_apply_each_change_once(app, alice, settings) -> None:  # type: ignore[no-untyped-def]
    work = _due_work(app, alice)
    cmd = [sys.executable, "-m", "numberdesk", "worker", "--once"]
    procs = [subprocess.Popen(cmd, env=settings_env(settings), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    totals: Counter = Counter()  # type: ignore[type-arg]
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
        totals.update(json.loads(out))
    each = len(work["provisioned"])
    assert totals["provisioning"] == each
    assert totals["provisioning_overdue"] == each
    assert totals["reclaim_window"] == each
    _assert_each_once(app, alice, work)
    # A later sweep finds nothing left to do.
    st = app.state.nd
    done = run_due(st.db, st.clock, st.settings)
    assert not {k: v for k, v in done.items() if k in ("provisioning", "provisioning_overdue", "reclaim_window")}


def test_racing_worker_threads_apply_each_change_once(app, alice, settings) -> None:  # type: ignore[no-untyped-def]
    work = _due_work(app, alice, each=6)
    st = app.state.nd
    barrier = threading.Barrier(3)
    results: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        db = Database(settings.resolved_database_url)  # its own engine, like another process
        try:
            barrier.wait()
            results.append(run_due(db, st.clock, settings))
        except BaseException as e:  # surfaced below
            errors.append(e)
        finally:
            db.dispose()

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert sum(r.get("reclaim_window", 0) for r in results) == 6
    assert sum(r.get("provisioning_overdue", 0) for r in results) == 6
    assert sum(r.get("provisioning", 0) for r in results) == 6
    _assert_each_once(app, alice, work)


def test_overdue_is_recorded_once_and_only_when_overdue(app, alice) -> None:  # type: ignore[no-untyped-def]
    _switch(alice, "stall_provisioning", True)
    n = alice.buy()
    alice.advance(47 * 3600)
    assert alice.number(n["id"])["provisioning_overdue"] is False
    assert [r["reason"] for r in alice.get(f"/v1/numbers/{n['id']}/history").json()["data"]] == ["purchased"]
    alice.advance(3600 + 2)
    alice.advance(3600)
    alice.advance(86400)
    out = alice.number(n["id"])
    assert out["provisioning_overdue"] is True
    assert [r["reason"] for r in alice.get(f"/v1/numbers/{n['id']}/history").json()["data"]] == [
        "purchased", "provisioning_overdue"]


def test_reactivated_into_pending_long_after_purchase_keeps_history_in_order(alice) -> None:  # type: ignore[no-untyped-def]
    n = alice.buy()
    assert release(alice, n["id"]).status_code == 200
    alice.advance(3 * 86400)
    r = alice.post(f"/v1/numbers/{n['id']}/reactivate", {})
    assert r.status_code == 200 and r.json()["status"] == "pending"
    alice.advance(1)
    alice.advance(60)
    rows = alice.get(f"/v1/numbers/{n['id']}/history").json()["data"]
    assert [(h["to"], h["reason"]) for h in rows] == [
        ("pending", "purchased"), ("released", "no_longer_needed"), ("pending", "reactivated"),
        ("pending", "provisioning_overdue"), ("active", "provisioned")]
    times = [ts(h["at"]) for h in rows]
    assert times == sorted(times)
    assert times[3] == times[2]  # overdue from the reactivation on, not from 48 h after purchase
