"""Agents: the targets calls are delivered to."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from numberdesk.db import Base, UTCDateTime

AGENT_KINDS = ("ai_agent", "team_member", "service")


class Agent(Base):
    __tablename__ = "agents"
    __table_args__ = (CheckConstraint("kind IN ('ai_agent','team_member','service')", name="kind"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    destination: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
