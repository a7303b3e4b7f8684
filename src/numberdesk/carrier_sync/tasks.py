"""The worker's look at the carrier: configuration reports, and reconciliation that reports
drift but never repairs it.

Repairs give numbers back to the carrier or take numbers out of service, so they
are an operator's decision: ``numberdesk carrier reconcile --apply``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from numberdesk.carrier_sync.configuration import CHECK_EVERY, SWEEP, sweep_configuration
from numberdesk.carrier_sync.reconcile import find_drift, log
from numberdesk.config import Settings
from numberdesk.errors import CarrierError
from numberdesk.providers.registry import get_carrier
from numberdesk.worker.registry import sweep

sweep(SWEEP, every=CHECK_EVERY)(sweep_configuration)


@sweep("reconcile", every=dt.timedelta(minutes=10))
def sweep_reconcile(session: Session, settings: Settings, now: dt.datetime) -> int:
    """Every ten minutes (clock time), log drift between the carrier and our numbers."""
    try:
        drift, held, live = find_drift(session, get_carrier(settings), now)
    except CarrierError as e:
        # An unreachable carrier must not stop the other sweeps of this round.
        log.warning("carrier reconciliation skipped: %s", e.detail)
        return 0
    for d in drift:
        log.warning("carrier drift: %s %s (carrier ref %s, number %s): %s",
                    d.kind, d.phone_number, d.carrier_ref, d.number_id, d.detail)
    if drift:
        log.warning("carrier drift: %d finding(s); %d held at the carrier, %d live here. "
                    "Repair with `numberdesk carrier reconcile --apply`.", len(drift), held, live)
    return 0  # nothing changed: the worker's rounds do not repeat for it
