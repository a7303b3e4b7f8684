"""Inactive numbers: what holds a number ``inactive`` and how it comes back by itself.

Two causes may hold a number at once: the account is past due (``billing``) and
the carrier reports a configuration problem (``configuration``). Each cause is a
row in ``inactive_causes``; the number returns to ``active`` only when its last
cause is resolved. ``status_reason`` shows one cause, billing first (the account
must settle its balance before anything else matters).

History: holding an active number writes ``active → inactive`` (reason = the
cause); a second cause while inactive writes ``inactive → inactive`` (reason = the
new cause); resolving one of two causes writes ``inactive → inactive`` (reason
``<cause>_resolved``); resolving the last writes ``inactive → active``
(``<cause>_resolved``). Each change also writes an audit row.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from enum import StrEnum

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.orm import Session

from numberdesk.accounts.models import Account
from numberdesk.audit import service as audit
from numberdesk.billing.models import InactiveCause, SweepMark
from numberdesk.billing.sql import insert_ignore
from numberdesk.clock import SystemClock
from numberdesk.config import Settings
from numberdesk.context import Ctx
from numberdesk.errors import NumberdeskError
from numberdesk.numbers import lifecycle
from numberdesk.numbers.lifecycle import Action, InactiveReason, Status
from numberdesk.numbers.models import PhoneNumber, StatusChange
from numberdesk.providers.registry import get_carrier

log = logging.getLogger("numberdesk.billing")

# The cause ``status_reason`` shows when several hold a number.
CAUSE_ORDER = (InactiveReason.billing, InactiveReason.configuration)
# How often (clock time) the worker asks the carrier about the numbers' configuration.
# The sandbox answers from its own tables, so a pass checks every number; a real carrier
# is asked over HTTP, so a pass checks a slice and the next pass goes on from there
# (the worker's transaction stays short).
CHECK_EVERY_SECONDS = 60
CARRIER_SLICE = 25


class Outcome(StrEnum):
    none = "none"          # nothing changed
    cause = "cause"        # the set of causes changed; the status did not
    status = "status"      # the number turned inactive or active


def shown_reason(causes: Iterable[str]) -> str | None:
    present = set(causes)
    return next((c.value for c in CAUSE_ORDER if c in present), None)


def causes_of(session: Session, account_id: str, number_ids: list[str]) -> dict[str, list[str]]:
    """The causes holding each number, in ``CAUSE_ORDER``; [] for a number not held."""
    out: dict[str, list[str]] = {i: [] for i in number_ids}
    if number_ids:
        rows = session.execute(
            select(InactiveCause.number_id, InactiveCause.cause)
            .where(InactiveCause.account_id == account_id, InactiveCause.number_id.in_(number_ids)))
        for nid, cause in rows:
            out[nid].append(cause)
    order = [c.value for c in CAUSE_ORDER]
    return {k: sorted(v, key=order.index) for k, v in out.items()}


def system_ctx(session: Session, settings: Settings, account_id: str, at: dt.datetime) -> Ctx:
    """The context of a change the system makes on its own, effective at ``at``."""
    return Ctx(session=session, account_id=account_id, actor="system", role="owner",
               clock=SystemClock(), settings=settings, _now=at)


def _locked(ctx: Ctx, number_id: str):  # type: ignore[no-untyped-def]
    return ctx.session.execute(
        select(PhoneNumber.status, PhoneNumber.status_reason, PhoneNumber.returned_at)
        .where(PhoneNumber.id == number_id, PhoneNumber.account_id == ctx.account_id)
        .with_for_update()).one_or_none()


def _history(ctx: Ctx, number_id: str, old: str, new: str, reason: str) -> None:
    ctx.session.add(StatusChange(account_id=ctx.account_id, number_id=number_id, from_status=old,
                                 to_status=new, reason=reason, actor=ctx.actor, at=ctx.now()))


def _remaining(ctx: Ctx, number_id: str) -> list[str]:
    return causes_of(ctx.session, ctx.account_id, [number_id])[number_id]


def hold(ctx: Ctx, number_id: str, cause: InactiveReason) -> Outcome:
    """Hold the number inactive for ``cause``; an active number turns inactive.

    A pending number has nothing to stop yet (the worker holds it once it turns
    active); a released one is not in service anyway.
    """
    row = _locked(ctx, number_id)
    if row is None or row.returned_at is not None or not lifecycle.allowed(row.status, Action.deactivate):
        return Outcome.none
    new = lifecycle.transition(row.status, Action.deactivate)
    now = ctx.now()
    if row.status == Status.active:
        changed = ctx.session.execute(
            update(PhoneNumber).where(PhoneNumber.id == number_id, PhoneNumber.status == Status.active)
            .values(status=new, status_reason=cause.value, updated_at=now,
                    version=PhoneNumber.version + 1)).rowcount
        if changed != 1:
            return Outcome.none  # Another worker changed it first; the next pass looks again.
        # Rows left from before a release are stale: an active number has no causes.
        ctx.session.execute(delete(InactiveCause).where(InactiveCause.number_id == number_id))
        insert_ignore(ctx.session, InactiveCause.__table__,
                      {"number_id": number_id, "cause": cause.value, "account_id": ctx.account_id, "since": now})
        _history(ctx, number_id, row.status, new, cause.value)
        audit.record(ctx, "number.deactivate", "number", number_id,
                     {"status": row.status, "status_reason": row.status_reason},
                     {"status": new.value, "status_reason": cause.value, "causes": [cause.value]})
        return Outcome.status
    if row.status != Status.inactive:
        return Outcome.none
    added = insert_ignore(ctx.session, InactiveCause.__table__,
                          {"number_id": number_id, "cause": cause.value, "account_id": ctx.account_id,
                           "since": now})
    if added != 1:
        return Outcome.none
    causes = _remaining(ctx, number_id)
    reason = shown_reason(causes)
    ctx.session.execute(update(PhoneNumber).where(PhoneNumber.id == number_id)
                        .values(status_reason=reason, updated_at=now, version=PhoneNumber.version + 1))
    _history(ctx, number_id, row.status, new, cause.value)
    audit.record(ctx, "number.inactive_causes", "number", number_id,
                 {"status": row.status, "status_reason": row.status_reason},
                 {"status": new.value, "status_reason": reason, "causes": causes})
    return Outcome.cause


def release_hold(ctx: Ctx, number_id: str, cause: InactiveReason) -> Outcome:
    """Resolve ``cause``; the number returns to ``active`` when no other cause holds it."""
    row = _locked(ctx, number_id)
    if row is None:
        return Outcome.none
    deleted = ctx.session.execute(
        delete(InactiveCause).where(InactiveCause.number_id == number_id,
                                    InactiveCause.cause == cause.value)).rowcount
    if row.status != Status.inactive or row.returned_at is not None:
        return Outcome.none  # a stale row of a number no longer held inactive
    causes = _remaining(ctx, number_id)
    if not deleted and not (row.status_reason == cause.value and not causes):
        return Outcome.none
    now = ctx.now()
    resolved = f"{cause.value}_resolved"
    if not causes:
        new = lifecycle.transition(row.status, Action.restore)
        changed = ctx.session.execute(
            update(PhoneNumber).where(PhoneNumber.id == number_id, PhoneNumber.status == Status.inactive)
            .values(status=new, status_reason=None, updated_at=now,
                    version=PhoneNumber.version + 1)).rowcount
        if changed != 1:
            return Outcome.none
        _history(ctx, number_id, row.status, new, resolved)
        audit.record(ctx, "number.restore", "number", number_id,
                     {"status": row.status, "status_reason": row.status_reason},
                     {"status": new.value, "status_reason": None, "causes": []})
        return Outcome.status
    reason = shown_reason(causes)
    ctx.session.execute(update(PhoneNumber).where(PhoneNumber.id == number_id)
                        .values(status_reason=reason, updated_at=now, version=PhoneNumber.version + 1))
    _history(ctx, number_id, row.status, row.status, resolved)
    audit.record(ctx, "number.inactive_causes", "number", number_id,
                 {"status": row.status, "status_reason": row.status_reason},
                 {"status": row.status, "status_reason": reason, "causes": causes})
    return Outcome.cause


# -- billing ----------------------------------------------------------------------------
def follow_billing_status(ctx: Ctx, status: str) -> int:
    """Past due holds every active number inactive (billing); good releases that hold.

    Returns how many numbers changed status.
    """
    if status == "past_due":
        ids = ctx.session.scalars(
            select(PhoneNumber.id)
            .where(PhoneNumber.account_id == ctx.account_id, PhoneNumber.returned_at.is_(None),
                   PhoneNumber.status.in_([Status.active, Status.inactive]))
            .order_by(PhoneNumber.id)).all()
        outcomes = [hold(ctx, i, InactiveReason.billing) for i in ids]
    else:
        ids = ctx.session.scalars(
            select(InactiveCause.number_id)
            .where(InactiveCause.account_id == ctx.account_id, InactiveCause.cause == InactiveReason.billing)
            .order_by(InactiveCause.number_id)).all()
        outcomes = [release_hold(ctx, i, InactiveReason.billing) for i in ids]
    return sum(o is Outcome.status for o in outcomes)


def sweep_billing_holds(session: Session, settings: Settings, now: dt.datetime) -> int:
    """Keep number status in step with the account's billing status.

    A number that turns active while its account is past due (provisioning
    finished, say) is held inactive from the moment it turned active.
    """
    done = 0
    last_change = (select(func.max(StatusChange.at)).where(StatusChange.number_id == PhoneNumber.id)
                   .correlate(PhoneNumber).scalar_subquery())
    unheld = session.execute(
        select(PhoneNumber.id, PhoneNumber.account_id, PhoneNumber.status, last_change)
        .join(Account, Account.id == PhoneNumber.account_id)
        .where(Account.billing_status == "past_due", PhoneNumber.returned_at.is_(None),
               PhoneNumber.status.in_([Status.active, Status.inactive]),
               ~exists().where(InactiveCause.number_id == PhoneNumber.id,
                               InactiveCause.cause == InactiveReason.billing))
        .order_by(PhoneNumber.id).limit(500)).all()
    for number_id, account_id, status, changed_at in unheld:
        # An active number turned active while past due: held from that moment on.
        at = min(changed_at or now, now) if status == Status.active else now
        ctx = system_ctx(session, settings, account_id, at)
        done += hold(ctx, number_id, InactiveReason.billing) is not Outcome.none
    stale = session.execute(
        select(InactiveCause.number_id, InactiveCause.account_id)
        .join(Account, Account.id == InactiveCause.account_id)
        .where(InactiveCause.cause == InactiveReason.billing, Account.billing_status == "good")
        .order_by(InactiveCause.number_id).limit(500)).all()
    for number_id, account_id in stale:
        ctx = system_ctx(session, settings, account_id, now)
        done += release_hold(ctx, number_id, InactiveReason.billing) is not Outcome.none
    return done


# -- configuration ----------------------------------------------------------------------
def apply_configuration_report(ctx: Ctx, number_id: str, ok: bool) -> Outcome:
    """Follow the carrier's word on the number's configuration."""
    if ok:
        return release_hold(ctx, number_id, InactiveReason.configuration)
    return hold(ctx, number_id, InactiveReason.configuration)


def claim_pass(session: Session, name: str, now: dt.datetime, every_seconds: int) -> str | None:
    """For the one worker that may run the throttled pass ``name`` now: where to go on from
    (``""`` = the start); None for every other worker, and until the pass is due again."""
    due = now - dt.timedelta(seconds=every_seconds)
    if session.execute(update(SweepMark).where(SweepMark.name == name, SweepMark.ran_at <= due)
                       .values(ran_at=now)).rowcount == 1:
        return session.scalar(select(SweepMark.cursor).where(SweepMark.name == name)) or ""
    if insert_ignore(session, SweepMark.__table__, {"name": name, "ran_at": now, "cursor": ""}) == 1:
        return ""
    return None


def sweep_configuration(session: Session, settings: Settings, now: dt.datetime) -> int:
    """Ask the carrier about every number in service; move them active ↔ inactive (configuration)."""
    after = claim_pass(session, "configuration", now, CHECK_EVERY_SECONDS)
    if after is None:
        return 0
    carrier = get_carrier(settings)
    has_cause = exists().where(InactiveCause.number_id == PhoneNumber.id,
                               InactiveCause.cause == InactiveReason.configuration)
    q = (select(PhoneNumber.id, PhoneNumber.account_id, PhoneNumber.provider_ref, PhoneNumber.status, has_cause)
         .where(PhoneNumber.status.in_([Status.active, Status.inactive]), PhoneNumber.returned_at.is_(None),
                PhoneNumber.provider_ref.is_not(None), PhoneNumber.id > after)
         .order_by(PhoneNumber.id))
    if not settings.is_sandbox:
        q = q.limit(CARRIER_SLICE)
    rows = session.execute(q).all()
    # The next pass goes on after this slice, or from the start once the end is reached.
    more = not settings.is_sandbox and len(rows) == CARRIER_SLICE
    session.execute(update(SweepMark).where(SweepMark.name == "configuration")
                    .values(cursor=rows[-1][0] if more else ""))
    done = 0
    for number_id, account_id, ref, status, held in rows:
        try:
            ok = carrier.configuration_ok(session, str(ref))
        except NumberdeskError as err:
            # The carrier did not answer: no news is not a configuration problem. Ask next pass.
            log.warning("configuration check of %s failed: %s", number_id, err.detail)
            continue
        if ok and not held:
            continue
        if not ok and held and status == Status.inactive:
            continue
        ctx = system_ctx(session, settings, account_id, now)
        done += apply_configuration_report(ctx, number_id, ok) is not Outcome.none
    return done


# -- the sandbox's switch ---------------------------------------------------------------
def sandbox_set_configuration(ctx: Ctx, number_id: str, broken: bool) -> PhoneNumber:
    """Make the sandbox carrier report the number's configuration broken (or fixed).

    The report takes effect at once, as a real carrier's notice would: an active
    number turns inactive (configuration); clearing it restores the number unless
    another cause still holds it.
    """
    from numberdesk.errors import InvalidState, NotFound
    from numberdesk.numbers import service as numbers
    from numberdesk.providers.sandbox.carrier import SandboxCarrier

    if not ctx.settings.is_sandbox:
        raise NotFound("There is no sandbox: this deployment uses a real carrier.")
    ctx.require("sandbox.control")
    n = numbers.get_for_update(ctx, number_id)
    if n.provider_ref is None or n.returned_at is not None:
        raise InvalidState("The carrier no longer has this number, so it has no configuration to break.",
                           status=n.status)
    carrier = get_carrier(ctx.settings)
    assert isinstance(carrier, SandboxCarrier)
    carrier.set_configuration_broken(ctx.session, n.provider_ref, broken)
    audit.record(ctx, "sandbox.configuration", "number", n.id, None, {"broken": broken})
    if n.status in (Status.active, Status.inactive):
        apply_configuration_report(ctx, n.id, not broken)
    ctx.session.flush()
    ctx.session.refresh(n)
    return n
