"""Phone numbers, their tags, their status history and what holds them inactive."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from numberdesk.db import Base, Money, UTCDateTime


class PhoneNumber(Base):
    __tablename__ = "phone_numbers"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending','active','inactive','released')", name="status"
        ),
        CheckConstraint("type IN ('local','toll_free','mobile')", name="type"),
        CheckConstraint(
            "status_reason IS NULL OR status_reason IN ('billing','configuration')",
            name="status_reason",
        ),
        CheckConstraint("agent_id IS NULL OR pool_id IS NULL", name="one_assignment"),
        # One holder per number: among numbers not yet returned to the carrier an
        # E.164 appears once. Two racing buyers: the second insert fails here.
        Index(
            "uq_phone_numbers_live_e164",
            "phone_number",
            unique=True,
            sqlite_where=text("returned_at IS NULL"),
            postgresql_where=text("returned_at IS NULL"),
        ),
        # One index per sort of the inventory list, ending in id: a keyset page (any
        # depth, any direction) is an index seek, also when filtered (migration 0006).
        Index("ix_phone_numbers_account_purchased", "account_id", "purchased_at", "id"),
        Index("ix_phone_numbers_account_status_id", "account_id", "status", "id"),
        Index("ix_phone_numbers_account_number", "account_id", "phone_number", "id"),
        Index("ix_phone_numbers_account_name", "account_id", "friendly_name", "id"),
        Index("ix_phone_numbers_account_price", "account_id", "monthly_price_minor", "id"),
        Index("ix_phone_numbers_status_due", "status", "provisioning_due_at"),
        Index("ix_phone_numbers_reclaim", "status", "reclaim_deadline"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    phone_number: Mapped[str] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2))
    type: Mapped[str] = mapped_column(String(16))
    cap_voice: Mapped[bool] = mapped_column(Boolean, default=True)
    cap_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    cap_mms: Mapped[bool] = mapped_column(Boolean, default=False)
    locality: Mapped[str | None] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(100))
    friendly_name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(100), index=True)

    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(String(16))
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id"), index=True)
    pool_id: Mapped[str | None] = mapped_column(ForeignKey("pools.id"), index=True)

    monthly_price_minor: Mapped[int] = mapped_column(Money)
    setup_price_minor: Mapped[int] = mapped_column(Money, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    provider: Mapped[str] = mapped_column(String(16))
    provider_ref: Mapped[str | None] = mapped_column(String(100))

    purchased_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    provisioning_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    activated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # When the worker recorded that provisioning took over 48 h (set once per provisioning).
    provisioning_overdue_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    released_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    release_reason: Mapped[str | None] = mapped_column(String(32))
    release_reason_text: Mapped[str | None] = mapped_column(String(500))
    release_notes: Mapped[str | None] = mapped_column(Text)
    released_by: Mapped[str | None] = mapped_column(String(64))
    cooldown_ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reclaim_deadline: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The assignment a release cleared, restored on reactivation.
    previous_agent_id: Mapped[str | None] = mapped_column(String(32))
    previous_pool_id: Mapped[str | None] = mapped_column(String(32))
    # Set when the reclaim window ended and the number went back to the carrier:
    # the record stays in the account, read-only.
    returned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)


class NumberTag(Base):
    __tablename__ = "number_tags"
    __table_args__ = (Index("ix_number_tags_account_tag", "account_id", "tag"),)
    number_id: Mapped[str] = mapped_column(
        ForeignKey("phone_numbers.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(32))


class StatusChange(Base):
    """One row per status change of a number; never updated or deleted."""

    __tablename__ = "status_changes"
    __table_args__ = (Index("ix_status_changes_number_at", "number_id", "at", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(32), index=True)
    number_id: Mapped[str] = mapped_column(ForeignKey("phone_numbers.id"))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class InactiveCause(Base):
    """One row per cause holding a number ``inactive`` (billing, configuration).

    The number stays inactive while any row is left; ``status_reason`` shows one
    of them, billing first.
    """

    __tablename__ = "inactive_causes"
    __table_args__ = (
        CheckConstraint("cause IN ('billing','configuration')", name="cause"),
        Index("ix_inactive_causes_account", "account_id", "cause"),
    )
    number_id: Mapped[str] = mapped_column(
        ForeignKey("phone_numbers.id", ondelete="CASCADE"), primary_key=True)
    cause: Mapped[str] = mapped_column(String(16), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(32))
    since: Mapped[dt.datetime] = mapped_column(UTCDateTime)
