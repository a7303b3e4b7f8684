"""Maintenance windows (deployment-wide): start, end, and the 503 while one is in effect."""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from numberdesk.errors import Maintenance
from numberdesk.kit.times import rfc3339
from numberdesk.maintenance.models import MaintenanceWindow


def current_window(session: Session, now: dt.datetime) -> MaintenanceWindow | None:
    return session.scalar(
        select(MaintenanceWindow)
        .where(MaintenanceWindow.starts_at <= now, MaintenanceWindow.ends_at > now,
               MaintenanceWindow.ended_at.is_(None))
        .order_by(MaintenanceWindow.ends_at.desc())
        .limit(1)
    )


def ensure_no_maintenance(session: Session, now: dt.datetime, action: str) -> None:
    """Buy, release and reactivate refuse with 503 while a window is in effect."""
    window = current_window(session, now)
    if window is not None:
        retry = math.ceil((window.ends_at - now).total_seconds())
        raise Maintenance(
            f"Maintenance is in progress until {window.ends_at:%Y-%m-%d %H:%M:%S} UTC; "
            f"{action} is paused. Try again after it ends (reading keeps working).",
            retry_after=retry,
            ends_at=rfc3339(window.ends_at),
        )


def start_maintenance(session: Session, now: dt.datetime, minutes: int, by: str = "cli") -> MaintenanceWindow:
    if minutes < 1 or minutes > 7 * 24 * 60:
        raise ValueError("minutes must be between 1 and 10080")
    window = MaintenanceWindow(starts_at=now, ends_at=now + dt.timedelta(minutes=minutes), created_by=by)
    session.add(window)
    session.flush()
    return window


def end_maintenance(session: Session, now: dt.datetime) -> int:
    return session.execute(
        update(MaintenanceWindow)
        .where(MaintenanceWindow.ended_at.is_(None), MaintenanceWindow.ends_at > now)
        .values(ended_at=now)
    ).rowcount
