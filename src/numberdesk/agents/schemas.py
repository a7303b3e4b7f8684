from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from numberdesk.agents.models import Agent
from numberdesk.kit.schemas import Body
from numberdesk.kit.times import rfc3339

AgentKind = Literal["ai_agent", "team_member", "service"]


class CreateAgent(Body):
    name: str = Field(min_length=1, max_length=200)
    kind: AgentKind
    destination: str = Field(min_length=1, max_length=500)


class UpdateAgent(Body):
    name: str | None = Field(None, min_length=1, max_length=200)
    kind: AgentKind | None = None
    destination: str | None = Field(None, min_length=1, max_length=500)


class AgentOut(BaseModel):
    id: str
    name: str
    kind: AgentKind
    destination: str
    number_count: int
    created_at: str
    updated_at: str


def agent_out(a: Agent, count: int) -> dict[str, object]:
    return {"id": a.id, "name": a.name, "kind": a.kind, "destination": a.destination, "number_count": count,
            "created_at": rfc3339(a.created_at), "updated_at": rfc3339(a.updated_at)}
