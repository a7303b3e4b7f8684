"""The worker's look at the carrier: reconciliation that reports drift, never repairs it.

Repairs give numbers back to the carrier or take numbers out of service, so they
are an operator's decision: ``numberdesk carrier reconcile --apply``.
"""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy.orm import Session

from numberdesk.config import Settings
from numberdesk.errors import CarrierError
from numberdesk.providers.reconcile import find_drift, log
from numberdesk.providers.registry import get_carrier
from numberdesk.worker import sweep

EVERY = dt.timedelta(minutes=10)

# Per process: each worker reports on its own schedule (reporting twice is harmless).
_last: dict[str, dt.datetime] = {}
_lock = threading.Lock()


@sweep("reconcile")
def sweep_reconcile(session: Session, settings: Settings, now: dt.datetime) -> int:
    """Every ten minutes (clock time), log drift between the carrier and our numbers."""
    key = settings.resolved_database_url
    with _lock:
        last = _last.get(key)
        if last is not None and now - last < EVERY:
            return 0
        _last[key] = now
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
