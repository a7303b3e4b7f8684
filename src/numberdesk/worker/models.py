"""The worker's own row: when each throttled sweep last ran, shared by every worker."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from numberdesk.db import Base, UTCDateTime


class SweepMark(Base):
    """When a throttled sweep last ran (compare-and-set, so one worker runs each pass).

    The table keeps the name it was created with (``billing_sweep_marks``).
    """

    __tablename__ = "billing_sweep_marks"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    ran_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # Where a pass that works through the inventory in slices goes on from ("" = the start).
    cursor: Mapped[str] = mapped_column(String(64), default="")
