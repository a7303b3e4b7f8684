"""The sandbox carrier's own books: orders, returned numbers ageing, failure switches."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from numberdesk.db import Base, UTCDateTime


class SandboxOrder(Base):
    __tablename__ = "sandbox_orders"
    __table_args__ = (Index("ix_sandbox_orders_number", "phone_number"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    phone_number: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16))  # pending | active | released
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ready_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    stalled: Mapped[bool] = mapped_column(Boolean, default=False)
    config_broken: Mapped[bool] = mapped_column(Boolean, default=False)
    released_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class SandboxReturn(Base):
    """A number returned to the sandbox carrier, out of sale until ``available_at``."""

    __tablename__ = "sandbox_returns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    phone_number: Mapped[str] = mapped_column(String(20), index=True)
    returned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    available_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class SandboxSwitch(Base):
    """Failure injection: ``reject_orders``, ``stall_provisioning`` (deployment-wide)."""

    __tablename__ = "sandbox_switches"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
