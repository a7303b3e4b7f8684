"""What a running process shares: settings, database, clock (``app.state.nd``)."""

from __future__ import annotations

from dataclasses import dataclass

from numberdesk.clock import Clock, SystemClock
from numberdesk.config import Settings
from numberdesk.db import Database
from numberdesk.providers.sandbox.clock import SandboxClock


@dataclass
class AppState:
    settings: Settings
    db: Database
    clock: Clock

    @classmethod
    def from_settings(cls, settings: Settings) -> AppState:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database(settings.resolved_database_url)
        clock: Clock = SandboxClock(db) if settings.is_sandbox else SystemClock()
        return cls(settings=settings, db=db, clock=clock)
