"""Reconciliation: our numbers against the carrier's inventory, and the repair of drift.

Drift comes in three kinds:

* ``orphan`` — the carrier holds a number no live row of ours knows (a purchase
  crashed between the carrier's answer and our commit). With ``apply`` it is
  returned to the carrier, once it is older than ``ORPHAN_GRACE`` (a purchase
  still in flight is never taken from under it), audited as a system action.
* ``missing`` — a live number of ours the carrier no longer holds. With ``apply``
  an active or inactive one is held inactive (configuration), with its history
  and audit rows; a pending or released one is only reported.
* ``ref_mismatch`` — the carrier holds our number under another ref. With
  ``apply`` our row takes the carrier's ref (audited).

A purchase retried after such a crash never orders twice: ``numbers.service.adoptable``
finds the orphan and the purchase takes it over.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass, field

from sqlalchemy.orm import Session

from numberdesk.audit import service as audit
from numberdesk.auth.context import system_ctx
from numberdesk.clock import Clock
from numberdesk.config import Settings
from numberdesk.db import Database
from numberdesk.kit.times import rfc3339
from numberdesk.numbers import holds, repository
from numberdesk.numbers.lifecycle import InactiveReason, Status
from numberdesk.providers.base import Carrier
from numberdesk.providers.registry import get_carrier

log = logging.getLogger("numberdesk.reconcile")

# No purchase takes this long between the carrier's answer and our commit.
ORPHAN_GRACE = dt.timedelta(minutes=15)


@dataclass
class Drift:
    kind: str                       # orphan | missing | ref_mismatch
    phone_number: str
    carrier_ref: str | None = None  # the carrier's ref (orphan, ref_mismatch)
    number_id: str | None = None    # our number (missing, ref_mismatch)
    account_id: str | None = None
    our_ref: str | None = None
    status: str | None = None       # our number's status
    since: dt.datetime | None = None
    action: str = "reported"        # reported | returned | deactivated | cause_added | ref_updated | skipped
    detail: str = ""


@dataclass
class ReconcileReport:
    provider: str
    checked_at: dt.datetime
    applied: bool
    carrier_holdings: int
    live_numbers: int
    drift: list[Drift] = field(default_factory=list)

    @property
    def unresolved(self) -> list[Drift]:
        return [d for d in self.drift if d.action in ("reported", "skipped")]

    def as_dict(self) -> dict[str, object]:
        def row(d: Drift) -> dict[str, object]:
            out = asdict(d)
            out["since"] = rfc3339(d.since)
            return out

        return {"provider": self.provider, "checked_at": rfc3339(self.checked_at), "applied": self.applied,
                "carrier_holdings": self.carrier_holdings, "live_numbers": self.live_numbers,
                "in_step": not self.drift, "drift": [row(d) for d in self.drift]}


def find_drift(session: Session, carrier: Carrier, now: dt.datetime,
               grace: dt.timedelta = ORPHAN_GRACE) -> tuple[list[Drift], int, int]:
    """(drift, carrier holdings, our live numbers of this carrier); changes nothing."""
    holdings = carrier.holdings(session)
    held = {h.phone_number: h for h in holdings}
    live = repository.live_numbers(session)
    ours = [r for r in live if r[5] == carrier.name]
    known = {r[2] for r in live}
    drift: list[Drift] = []
    for h in holdings:
        if h.phone_number in known:
            continue
        recent = h.since is not None and now - h.since < grace
        drift.append(Drift(
            "orphan", h.phone_number, carrier_ref=h.ref, since=h.since,
            detail=("The carrier holds it but no number of ours does"
                    + (" (acquired moments ago: a purchase may still be committing)." if recent else "."))))
    for number_id, account_id, e164, status, ref, _ in ours:
        found = held.get(e164)
        if found is None:
            drift.append(Drift(
                "missing", e164, number_id=number_id, account_id=account_id, our_ref=ref, status=status,
                detail=f"Our {status} number is not held by the carrier."))
        elif ref != found.ref:
            drift.append(Drift(
                "ref_mismatch", e164, carrier_ref=found.ref, number_id=number_id, account_id=account_id,
                our_ref=ref, status=status, since=found.since,
                detail=f"The carrier holds it as {found.ref}, our row says {ref}."))
    return drift, len(holdings), len(ours)


# -- repairs (each in its own transaction) ----------------------------------------------
def _return_orphan(session: Session, carrier: Carrier, d: Drift, now: dt.datetime, grace: dt.timedelta) -> None:
    if d.since is not None and now - d.since < grace:
        d.action, d.detail = "skipped", (f"Acquired at {rfc3339(d.since)}: left alone until it is "
                                         f"{int(grace.total_seconds() // 60)} minutes old, so a purchase "
                                         "still committing keeps it.")
        return
    if repository.holder_of(session, d.phone_number) is not None:
        d.action, d.detail = "skipped", "A number of ours took it over meanwhile."
        return
    assert d.carrier_ref is not None
    carrier.return_number(session, d.carrier_ref, d.phone_number, now)
    # Of no account: the deployment's own audit row.
    audit.write(session, account_id=None, actor="system", action="carrier.orphan_returned",
                target_type="carrier_number", target_id=d.phone_number,
                before={"held": True, "carrier_ref": d.carrier_ref, "since": rfc3339(d.since)},
                after={"held": False, "reason": "held by the carrier, unknown to numberdesk"}, at=now)
    d.action = "returned"


def _deactivate_missing(session: Session, settings: Settings, d: Drift, now: dt.datetime) -> None:
    if d.status not in (Status.active, Status.inactive):
        d.detail += " Only an active or inactive number is held inactive; this one is left to its lifecycle."
        return
    assert d.account_id is not None and d.number_id is not None
    outcome = holds.hold(system_ctx(session, settings, d.account_id, now), d.number_id,
                         InactiveReason.configuration)
    d.action = {holds.Outcome.status: "deactivated", holds.Outcome.cause: "cause_added"}.get(outcome, "reported")
    if outcome is holds.Outcome.none:
        d.detail += " It is already held inactive for its configuration."


def _adopt_ref(session: Session, settings: Settings, d: Drift, now: dt.datetime) -> None:
    assert d.account_id is not None and d.number_id is not None
    ctx = system_ctx(session, settings, d.account_id, now)
    n = repository.get_for_update(ctx, d.number_id)
    if n.returned_at is not None or n.provider_ref != d.our_ref:
        d.action, d.detail = "skipped", "The number changed meanwhile; the next run looks again."
        return
    n.provider_ref = d.carrier_ref
    n.updated_at = now
    n.version += 1
    audit.record(ctx, "number.carrier_ref", "number", d.number_id, {"provider_ref": d.our_ref},
                 {"provider_ref": d.carrier_ref, "reason": "reconciled with the carrier"})
    d.action = "ref_updated"


def reconcile(db: Database, settings: Settings, clock: Clock, *, apply: bool,
              grace: dt.timedelta = ORPHAN_GRACE) -> ReconcileReport:
    """Compare the carrier's holdings with our live numbers; with ``apply``, repair the drift."""
    carrier = get_carrier(settings)
    now = clock.now()
    # Reading only: on SQLite this takes no write lock while the carrier answers.
    with db.session(write=False) as session:
        drift, held, live = find_drift(session, carrier, now, grace)
    report = ReconcileReport(carrier.name, now, apply, held, live, drift)
    if not apply:
        return report
    for d in drift:
        try:
            with db.session() as session:
                if d.kind == "orphan":
                    _return_orphan(session, carrier, d, now, grace)
                elif d.kind == "missing":
                    _deactivate_missing(session, settings, d, now)
                else:
                    _adopt_ref(session, settings, d, now)
        except Exception as e:  # one failed repair must not stop the others
            log.exception("reconcile: repairing %s %s failed", d.kind, d.phone_number)
            d.action, d.detail = "skipped", f"{d.detail} The repair failed: {e}"
    return report
