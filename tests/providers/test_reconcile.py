"""Crash safety and reconciliation against the sandbox carrier, on both databases."""

from __future__ import annotations

import datetime as dt
import json
import logging
import subprocess
import sys
from typing import Any

import pytest
from sqlalchemy import func, select, update

from numberdesk.audit.models import AuditEvent
from numberdesk.auth.context import Ctx
from numberdesk.carrier_sync.reconcile import ORPHAN_GRACE, reconcile
from numberdesk.numbers.models import PhoneNumber, StatusChange
from numberdesk.numbers.service import purchase
from numberdesk.providers.base import SearchQuery
from numberdesk.providers.registry import get_carrier
from numberdesk.providers.sandbox.models import SandboxOrder
from tests.conftest import settings_env

GRACE = int(ORPHAN_GRACE.total_seconds())


def _orphan(app: Any, *, age: dt.timedelta = dt.timedelta(0)) -> tuple[str, str]:
    """A number ordered at the carrier in its own committed transaction, with no row of ours:
    what a crash between the carrier's answer and our commit leaves behind."""
    st = app.state.nd
    carrier = get_carrier(st.settings)
    with st.db.session() as s:
        listing = carrier.search(s, SearchQuery(country="US", type="local", limit=1), st.clock.now())[0]
        order = carrier.order(s, listing, st.clock.now() - age)
    return order.ref, listing.phone_number


def _run(app: Any, *, apply: bool) -> Any:
    st = app.state.nd
    return reconcile(st.db, st.settings, st.clock, apply=apply)


def _drift(report: Any) -> list[tuple[Any, ...]]:
    return [(d.kind, d.phone_number, d.carrier_ref, d.number_id, d.action) for d in report.drift]


def _order(app: Any, ref: str) -> SandboxOrder:
    with app.state.nd.db.session(write=False) as s:
        return s.get(SandboxOrder, ref)


def _holdings(app: Any, e164: str) -> list[Any]:
    st = app.state.nd
    with st.db.session(write=False) as s:
        return get_carrier(st.settings).holdings(s, e164)


def _ref(app: Any, number_id: str) -> str | None:
    with app.state.nd.db.session(write=False) as s:
        return s.scalar(select(PhoneNumber.provider_ref).where(PhoneNumber.id == number_id))


def _events(app: Any, action: str) -> list[AuditEvent]:
    with app.state.nd.db.session(write=False) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# -- orphans -------------------------------------------------------------------------------
def test_orphan_is_reported_returned_and_for_sale_again(app: Any, alice: Any) -> None:
    ref, e164 = _orphan(app)
    assert e164 not in {x["phone_number"] for x in alice.search(country="US", type="local", limit=5)}

    report = _run(app, apply=False)
    assert _drift(report) == [("orphan", e164, ref, None, "reported")]
    assert report.carrier_holdings == 1 and report.live_numbers == 0 and report.unresolved

    # Too fresh: a purchase could still be committing it.
    assert _drift(_run(app, apply=True)) == [("orphan", e164, ref, None, "skipped")]
    assert _order(app, ref).status == "pending"

    alice.advance(GRACE + 1)
    report = _run(app, apply=True)
    assert _drift(report) == [("orphan", e164, ref, None, "returned")] and not report.unresolved
    assert _order(app, ref).status == "returned"
    [event] = _events(app, "carrier.orphan_returned")
    assert (event.account_id, event.actor, event.target_type, event.target_id) == (
        None, "system", "carrier_number", e164)
    assert event.before["carrier_ref"] == ref and event.after["held"] is False
    assert _run(app, apply=False).drift == []

    # Back at the carrier it ages like any returned number, then it is for sale again.
    r = alice.post("/v1/numbers", {"phone_number": e164})
    assert r.status_code == 409 and r.json()["code"] == "number_unavailable"
    alice.advance(app.state.nd.settings.sandbox_aging_days * 86400 + 1)
    n = alice.buy(e164)
    assert _ref(app, n["id"]) != ref  # a new order, not the returned one


def test_purchase_retried_after_a_crash_adopts_the_orphan(app: Any, alice: Any) -> None:
    ref, e164 = _orphan(app)
    n = alice.buy(e164)
    assert n["status"] == "pending" and _ref(app, n["id"]) == ref
    assert [h.ref for h in _holdings(app, e164)] == [ref]  # exactly one holding: never ordered twice
    with app.state.nd.db.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(SandboxOrder)
                        .where(SandboxOrder.phone_number == e164)) == 1
    [event] = [e for e in _events(app, "number.purchase") if e.target_id == n["id"]]
    assert event.after["adopted_carrier_order"] == ref
    alice.advance(60)  # the order provisions on its own schedule
    assert alice.number(n["id"])["status"] == "active"
    assert _run(app, apply=False).drift == []


def test_a_crash_inside_the_sandbox_rolls_the_order_back_too(app: Any, alice: Any) -> None:
    st = app.state.nd
    e164 = alice.search(country="US", type="local", limit=1)[0]["phone_number"]
    with pytest.raises(RuntimeError), st.db.session() as s:
        ctx = Ctx(session=s, account_id=alice.account_id, actor="key_test", role="owner", clock=st.clock,
                  settings=st.settings)
        purchase(ctx, e164)
        assert [h.phone_number for h in get_carrier(st.settings).holdings(s, e164)] == [e164]
        raise RuntimeError("crashed before our commit")
    # The sandbox keeps its books in our transaction: nothing to adopt, nothing left over.
    assert _holdings(app, e164) == [] and _run(app, apply=False).drift == []
    n = alice.buy(e164)
    assert [h.ref for h in _holdings(app, e164)] == [_ref(app, n["id"])]


# -- missing numbers and refs --------------------------------------------------------------------
def test_missing_number_is_held_inactive_for_configuration(app: Any, alice: Any) -> None:
    n = alice.buy(search={"country": "US", "type": "local"})
    alice.advance(60)
    assert alice.number(n["id"])["status"] == "active"
    ref = _ref(app, n["id"])
    with app.state.nd.db.session() as s:
        s.execute(update(SandboxOrder).where(SandboxOrder.id == ref).values(status="returned"))

    report = _run(app, apply=False)
    assert _drift(report) == [("missing", n["phone_number"], None, n["id"], "reported")]
    assert report.drift[0].status == "active" and alice.number(n["id"])["status"] == "active"

    report = _run(app, apply=True)
    assert _drift(report) == [("missing", n["phone_number"], None, n["id"], "deactivated")]
    got = alice.number(n["id"])
    assert (got["status"], got["status_reason"]) == ("inactive", "configuration")
    with app.state.nd.db.session(write=False) as s:
        last = s.scalars(select(StatusChange).where(StatusChange.number_id == n["id"])
                         .order_by(StatusChange.at.desc(), StatusChange.id.desc())).first()
    assert (last.from_status, last.to_status, last.reason, last.actor) == (
        "active", "inactive", "configuration", "system")
    [event] = [e for e in _events(app, "number.deactivate") if e.target_id == n["id"]]
    assert event.account_id == alice.account_id and event.actor == "system"

    # The configuration check agrees (the carrier does not have it), so it stays inactive.
    alice.advance(120)
    assert alice.number(n["id"])["status"] == "inactive"
    again = _run(app, apply=True)
    assert _drift(again) == [("missing", n["phone_number"], None, n["id"], "reported")]
    assert "already held inactive" in again.drift[0].detail


def test_missing_pending_number_is_only_reported(app: Any, alice: Any) -> None:
    n = alice.buy(search={"country": "US", "type": "local"})
    with app.state.nd.db.session() as s:
        s.execute(update(SandboxOrder).where(SandboxOrder.id == _ref(app, n["id"])).values(status="returned"))
    report = _run(app, apply=True)
    assert _drift(report) == [("missing", n["phone_number"], None, n["id"], "reported")]
    assert alice.number(n["id"])["status"] == "pending"


def test_ref_mismatch_takes_the_carriers_ref(app: Any, alice: Any) -> None:
    n = alice.buy(search={"country": "US", "type": "local"})
    real = _ref(app, n["id"])
    with app.state.nd.db.session() as s:
        s.execute(update(PhoneNumber).where(PhoneNumber.id == n["id"]).values(provider_ref="sbo_stale"))
    report = _run(app, apply=False)
    assert _drift(report) == [("ref_mismatch", n["phone_number"], real, n["id"], "reported")]
    report = _run(app, apply=True)
    assert _drift(report) == [("ref_mismatch", n["phone_number"], real, n["id"], "ref_updated")]
    assert _ref(app, n["id"]) == real
    [event] = _events(app, "number.carrier_ref")
    assert event.before == {"provider_ref": "sbo_stale"} and event.after["provider_ref"] == real
    assert event.account_id == alice.account_id and event.target_id == n["id"]
    assert _run(app, apply=False).drift == []


def test_released_numbers_held_for_the_window_are_not_drift(app: Any, alice: Any) -> None:
    n = alice.buy(search={"country": "US", "type": "local"})
    alice.advance(60)
    r = alice.post(f"/v1/numbers/{n['id']}/release", {"reason": "no_longer_needed", "acknowledge": True})
    assert r.status_code == 200, r.text
    assert _run(app, apply=False).drift == []
    alice.advance(app.state.nd.settings.reclaim_days * 86400 + 1)  # the window ends: returned for good
    report = _run(app, apply=False)
    assert report.drift == [] and report.carrier_holdings == 0 and report.live_numbers == 0


# -- the worker only reports ------------------------------------------------------------------------
def test_the_worker_reports_drift_without_repairing_it(app: Any, alice: Any,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    ref, e164 = _orphan(app, age=dt.timedelta(hours=1))
    with caplog.at_level(logging.WARNING, logger="numberdesk.reconcile"):
        alice.advance(1)
    lines = [r.getMessage() for r in caplog.records if r.name == "numberdesk.reconcile"]
    assert any(line.startswith(f"carrier drift: orphan {e164} (carrier ref {ref}") for line in lines)
    assert _order(app, ref).status == "pending" and _events(app, "carrier.orphan_returned") == []

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="numberdesk.reconcile"):
        alice.advance(60)  # within ten minutes: not again
    assert [r for r in caplog.records if r.name == "numberdesk.reconcile"] == []
    with caplog.at_level(logging.WARNING, logger="numberdesk.reconcile"):
        alice.advance(600)
    assert any(e164 in r.getMessage() for r in caplog.records if r.name == "numberdesk.reconcile")


# -- the command ----------------------------------------------------------------------------------
def _cli(settings: Any, *args: str) -> subprocess.CompletedProcess[str]:
    env = settings_env(settings)
    env["COLUMNS"] = "200"
    return subprocess.run([sys.executable, "-m", "numberdesk", "carrier", "reconcile", *args], env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_the_reconcile_command(app: Any, alice: Any, settings: Any) -> None:
    ref, e164 = _orphan(app, age=dt.timedelta(hours=1))
    out = _cli(settings, "--json")
    assert out.returncode == 3, out.stderr
    data = json.loads(out.stdout)
    assert (data["provider"], data["applied"], data["in_step"]) == ("sandbox", False, False)
    assert [(d["kind"], d["phone_number"], d["carrier_ref"], d["action"]) for d in data["drift"]] == [
        ("orphan", e164, ref, "reported")]

    out = _cli(settings)
    assert out.returncode == 3 and "orphan" in out.stdout and e164 in out.stdout and "--apply" in out.stdout

    out = _cli(settings, "--apply", "--json")
    assert out.returncode == 0, out.stderr
    assert [d["action"] for d in json.loads(out.stdout)["drift"]] == ["returned"]
    assert _order(app, ref).status == "returned"

    out = _cli(settings)
    assert out.returncode == 0 and "in step" in out.stdout
