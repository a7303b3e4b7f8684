"""Number pools: several numbers with one inbound route and an outbound caller-ID strategy."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from numberdesk.db import Base, UTCDateTime

POOL_STRATEGIES = ("local_presence", "round_robin", "sticky")


class Pool(Base):
    __tablename__ = "pools"
    __table_args__ = (
        CheckConstraint("strategy IN ('local_presence','round_robin','sticky')", name="strategy"),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    strategy: Mapped[str] = mapped_column(String(16), default="round_robin")
    # The pool's one inbound route: calls to any of its numbers go to this agent.
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id"))
    # round_robin: how many caller IDs the pool has handed out (the next one is cursor % n).
    rr_cursor: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class PoolSticky(Base):
    """sticky: the pool number a callee has been shown, shown again while it is in service."""

    __tablename__ = "pool_sticky"
    pool_id: Mapped[str] = mapped_column(ForeignKey("pools.id", ondelete="CASCADE"), primary_key=True)
    callee: Mapped[str] = mapped_column(String(20), primary_key=True)
    number_id: Mapped[str] = mapped_column(ForeignKey("phone_numbers.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
