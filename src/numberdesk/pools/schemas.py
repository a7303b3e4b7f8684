"""Request and response shapes of number pools."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from numberdesk.kit.schemas import Body
from numberdesk.kit.times import rfc3339
from numberdesk.pools.models import Pool

Strategy = Literal["local_presence", "round_robin", "sticky"]


class CreatePool(Body):
    name: str = Field(min_length=1, max_length=200)
    strategy: Strategy = "round_robin"
    agent_id: str | None = Field(None, max_length=40, description="The agent inbound calls to the pool reach")


class UpdatePool(Body):
    name: str | None = Field(None, min_length=1, max_length=200)
    strategy: Strategy | None = None
    agent_id: str | None = Field(None, max_length=40)


class PoolOut(BaseModel):
    id: str
    name: str
    strategy: Strategy
    agent_id: str | None
    number_count: int
    created_at: str


def pool_out(p: Pool, count: int) -> dict[str, object]:
    return {"id": p.id, "name": p.name, "strategy": p.strategy, "agent_id": p.agent_id,
            "number_count": count, "created_at": rfc3339(p.created_at)}


class CallerIdIn(Body):
    to: str = Field(min_length=1, max_length=40, description="The number being called, any common format")


class CallerIdNumber(BaseModel):
    id: str
    phone_number: str
    national_format: str


class CallerIdOut(BaseModel):
    pool_id: str
    strategy: Strategy
    to: str
    number: CallerIdNumber
    reason: str
