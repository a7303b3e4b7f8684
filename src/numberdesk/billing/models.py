"""The billing ledger: one charge per number per calendar-month cycle."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from numberdesk.db import Base, Money, UTCDateTime


class Charge(Base):
    __tablename__ = "charges"
    __table_args__ = (
        # Exactly once per (number, cycle), however many workers race.
        UniqueConstraint("number_id", "cycle", name="uq_charges_number_cycle"),
        # A cycle's charges page by id without sorting the whole cycle.
        Index("ix_charges_account_cycle_id", "account_id", "cycle", "id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(32))
    number_id: Mapped[str] = mapped_column(ForeignKey("phone_numbers.id"))
    cycle: Mapped[str] = mapped_column(String(7))  # YYYY-MM (UTC)
    # The cycle's bounds [period_start, period_end): lets the worker find numbers
    # that stopped being billable after the last cycle they were charged for.
    period_start: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    amount_minor: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    department: Mapped[str | None] = mapped_column(String(100))
    # When the charge fell due: the cycle's first instant, or the activation
    # instant for the cycle a number was activated in.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
