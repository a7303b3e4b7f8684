"""Call flows and automations that use numbers (they block a release)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from numberdesk.db import Base, UTCDateTime


class Automation(Base):
    __tablename__ = "automations"
    __table_args__ = (CheckConstraint("kind IN ('call_flow','automation')", name="kind"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class AutomationNumber(Base):
    __tablename__ = "automation_numbers"
    automation_id: Mapped[str] = mapped_column(
        ForeignKey("automations.id", ondelete="CASCADE"), primary_key=True
    )
    number_id: Mapped[str] = mapped_column(ForeignKey("phone_numbers.id"), primary_key=True, index=True)
