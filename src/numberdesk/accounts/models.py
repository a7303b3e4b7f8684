"""Accounts (tenants), the people who sign in, and API keys."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from numberdesk.db import Base, UTCDateTime

ROLES = ("owner", "admin", "member", "viewer")


class BillingStatus(StrEnum):
    """Whether the account is paid up; past due holds its active numbers inactive (billing)."""

    good = "good"
    past_due = "past_due"


_ROLE_CHECK = "role IN ('owner','admin','member','viewer')"


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("billing_status IN ('good','past_due')", name="billing_status"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    billing_status: Mapped[str] = mapped_column(String(16), default=BillingStatus.good.value)
    # Where calls to an active but unassigned number go (SIP URI, E.164 or wss://).
    fallback_destination: Mapped[str | None] = mapped_column(String(500))
    # Friendly-name template for new numbers, e.g. "{department}-{area_code}-{seq}".
    naming_template: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_ROLE_CHECK, name="role"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    # Dashboard sessions carry the epoch they began in; signing out moves it on.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint(_ROLE_CHECK, name="role"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    # SHA-256 of the secret: keys are long random strings, so a fast digest is safe
    # and keeps every API request cheap. The secret itself is never stored.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
