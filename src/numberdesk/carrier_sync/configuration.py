"""The carrier's word on each number's configuration: a broken one holds the number
inactive (``configuration``), a fixed one releases that hold."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from numberdesk.auth.context import Ctx, system_ctx
from numberdesk.config import Settings
from numberdesk.errors import NumberdeskError
from numberdesk.numbers import holds
from numberdesk.numbers.lifecycle import InactiveReason, Status
from numberdesk.numbers.models import InactiveCause, PhoneNumber
from numberdesk.providers.registry import get_carrier
from numberdesk.worker import registry

log = logging.getLogger("numberdesk.carrier_sync")

# How often (clock time) the worker asks the carrier about the numbers' configuration.
# The sandbox answers from its own tables, so a pass checks every number; a real carrier
# is asked over HTTP, so a pass checks a slice and the next pass goes on from there
# (the worker's transaction stays short).
CHECK_EVERY = dt.timedelta(seconds=60)
CARRIER_SLICE = 25
SWEEP = "configuration"


def apply_report(ctx: Ctx, number_id: str, ok: bool) -> holds.Outcome:
    """Follow the carrier's word on the number's configuration."""
    if ok:
        return holds.release_hold(ctx, number_id, InactiveReason.configuration)
    return holds.hold(ctx, number_id, InactiveReason.configuration)


def sweep_configuration(session: Session, settings: Settings, now: dt.datetime) -> int:
    """Ask the carrier about every number in service; move them active ↔ inactive (configuration)."""
    after = registry.cursor(session, SWEEP)
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
    registry.set_cursor(session, SWEEP, rows[-1][0] if more else "")
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
        done += apply_report(system_ctx(session, settings, account_id, now), number_id, ok) is not holds.Outcome.none
    return done
