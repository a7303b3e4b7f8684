"""The worker: runs every time-driven change as an idempotent compare-and-set sweep.

``numberdesk serve`` runs it in a thread; ``numberdesk worker`` runs it alone (for
deployments with several API processes). Several workers at once are safe: each
sweep changes a row only if it is still in the state the sweep read.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from sqlalchemy.orm import Session

from numberdesk.clock import Clock
from numberdesk.config import Settings
from numberdesk.db import Database

log = logging.getLogger("numberdesk.worker")

Sweep = Callable[[Session, Settings, dt.datetime], int]
SWEEPS: list[tuple[str, Sweep]] = []
# The order sweeps run in, whatever order their modules were imported in: changes
# of status first (a number activated in this round is checked and billed in this
# round too), then what is derived from status.
ORDER = ("provisioning", "provisioning_overdue", "reclaim_window", "billing_status", "configuration",
         "billing", "stale_active_calls", "reconcile")


def sweep(name: str) -> Callable[[Sweep], Sweep]:
    """Register a sweep; sweeps run in ``ORDER``, each in its own transaction."""

    def deco(fn: Sweep) -> Sweep:
        if name not in {n for n, _ in SWEEPS}:
            SWEEPS.append((name, fn))
            SWEEPS.sort(key=lambda item: ORDER.index(item[0]) if item[0] in ORDER else len(ORDER))
        return fn

    return deco


def _load_sweeps() -> None:
    # Importing a domain's tasks module registers its sweeps.
    import numberdesk.billing.tasks
    import numberdesk.calls.tasks
    import numberdesk.numbers.tasks
    import numberdesk.providers.tasks  # noqa: F401


def run_due(db: Database, clock: Clock, settings: Settings, *, max_rounds: int = 20) -> dict[str, int]:
    """Run every sweep until none finds more work; returns what each changed."""
    _load_sweeps()
    totals: dict[str, int] = {}
    for _ in range(max_rounds):
        changed = 0
        now = clock.now()
        for name, fn in SWEEPS:
            with db.session() as session:
                n = fn(session, settings, now)
            if n:
                totals[name] = totals.get(name, 0) + n
                changed += n
        if not changed:
            break
    return totals


class WorkerThread(threading.Thread):
    def __init__(self, db: Database, clock: Clock, settings: Settings) -> None:
        super().__init__(name="numberdesk-worker", daemon=True)
        self.db, self.clock, self.settings = db, clock, settings
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                done = run_due(self.db, self.clock, self.settings)
                if done:
                    log.info("worker: %s", done)
            except Exception:  # a failing sweep must not stop the others next round
                log.exception("worker sweep failed")
            self.stop_event.wait(self.settings.worker_interval_seconds)

    def stop(self) -> None:
        self.stop_event.set()
