"""What a running process shares: settings, database, clock."""

from __future__ import annotations

from dataclasses import dataclass

from numberdesk.clock import Clock, SandboxClock, SystemClock
from numberdesk.config import Settings
from numberdesk.db import Database


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
