"""Calls in progress (they block a release) and call records (analytics)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from numberdesk.db import Base, UTCDateTime


class ActiveCall(Base):
    """A call ringing or in progress on a number; deleted when it ends."""

    __tablename__ = "active_calls"
    __table_args__ = (UniqueConstraint("provider", "call_sid", name="uq_active_calls_provider_sid"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(32), index=True)
    number_id: Mapped[str] = mapped_column(ForeignKey("phone_numbers.id"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    call_sid: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))  # ringing | in_progress
    from_number: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Call(Base):
    """A finished call."""

    __tablename__ = "calls"
    __table_args__ = (
        UniqueConstraint("provider", "provider_call_id", name="uq_calls_provider_call"),
        Index("ix_calls_account_started", "account_id", "started_at", "id"),
        Index("ix_calls_number_started", "number_id", "started_at", "id"),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(32))
    number_id: Mapped[str] = mapped_column(ForeignKey("phone_numbers.id"))
    agent_id: Mapped[str | None] = mapped_column(String(32), index=True)
    direction: Mapped[str] = mapped_column(String(16))  # inbound | outbound
    from_number: Mapped[str] = mapped_column(String(32))
    to_number: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # completed|no_answer|busy|failed|canceled
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    duration_seconds: Mapped[int] = mapped_column(Integer, default=0)
    provider: Mapped[str | None] = mapped_column(String(16))
    provider_call_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class WebhookEvent(Base):
    """Each carrier event stored once; handling it again is a no-op."""

    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("provider", "event_id", name="uq_webhook_events_provider_event"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
