"""Calls in progress (they block a release), call records and their rollups (analytics)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from numberdesk.db import Base, UTCDateTime

# Final call statuses; every one but ``completed`` counts as missed.
FINAL_STATUSES = ("completed", "no_answer", "busy", "failed", "canceled")
MISSED_STATUSES = ("no_answer", "busy", "failed", "canceled")
# Rollup buckets are 15 minutes of UTC: every time zone in use today is a whole
# number of quarter hours from UTC (India +5:30, Nepal +5:45, Chatham +12:45), so
# any local hour, day or week is an exact union of buckets.
BUCKET_SECONDS = 900


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
    # Who the routing decision sent the call to, kept for the call record.
    agent_id: Mapped[str | None] = mapped_column(String(32))
    to_number: Mapped[str | None] = mapped_column(String(32))
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Call(Base):
    """A finished call."""

    __tablename__ = "calls"
    __table_args__ = (
        # A carrier's call is recorded once; calls from the batch ingest have no carrier id
        # and stay out of this index (one index fewer to write per ingested call).
        Index("uq_calls_provider_call", "provider", "provider_call_id", unique=True,
              sqlite_where=text("provider_call_id IS NOT NULL"),
              postgresql_where=text("provider_call_id IS NOT NULL")),
        Index("ix_calls_account_started", "account_id", "started_at", "id"),
        Index("ix_calls_number_started", "number_id", "started_at", "id"),
        Index("ix_calls_agent_started", "agent_id", "started_at", "id"),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(32))
    number_id: Mapped[str] = mapped_column(ForeignKey("phone_numbers.id"))
    agent_id: Mapped[str | None] = mapped_column(String(32))
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


class CallRollup(Base):
    """Call counts per 15-minute UTC bucket, for the account, each number and each agent.

    Written in the same transaction as the call records (an UPSERT adding the
    deltas), so analytics stay exact when late records arrive and read at most
    one row per quarter hour whatever the number of calls.
    """

    __tablename__ = "call_rollups"
    account_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # "a": the whole account (dim_id ""), "n": one number, "g": one agent.
    dim: Mapped[str] = mapped_column(String(1), primary_key=True)
    dim_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Bucket start as Unix seconds (a multiple of BUCKET_SECONDS).
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    # Sum of the durations of the answered calls (the average is over those).
    duration_sum: Mapped[int] = mapped_column(BigInteger, default=0)


class WebhookEvent(Base):
    """Each carrier event stored once; handling it again is a no-op."""

    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("provider", "event_id", name="uq_webhook_events_provider_event"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
