"""Runs the registered sweeps in rounds: ``numberdesk serve`` in a thread, ``numberdesk worker`` alone.

Several workers at once are safe: each sweep changes a row only if it is still in
the state the sweep read, and a throttled sweep is claimed by one worker per pass.
"""

from __future__ import annotations

import logging
import threading

from numberdesk.clock import Clock
from numberdesk.config import Settings
from numberdesk.db import Database
from numberdesk.worker import registry

log = logging.getLogger("numberdesk.worker")


def run_due(db: Database, clock: Clock, settings: Settings, *, max_rounds: int = 20) -> dict[str, int]:
    """Run every sweep until none finds more work; returns what each changed.

    The sweeps are those registered by importing ``numberdesk.tasks`` (the app and the
    CLI do); with none registered this refuses rather than silently doing nothing.
    """
    due = registry.sweeps()
    if not due:
        raise RuntimeError("no sweeps are registered: import numberdesk.tasks first")
    totals: dict[str, int] = {}
    for _ in range(max_rounds):
        changed = 0
        now = clock.now()
        for r in due:
            with db.session() as session:
                if r.every is not None and registry.claim_pass(
                        session, r.name, now, r.every.total_seconds()) is None:
                    continue
                n = r.fn(session, settings, now)
            if n:
                totals[r.name] = totals.get(r.name, 0) + n
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
