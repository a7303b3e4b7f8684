"""Request and response shapes of call flows and automations."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from numberdesk.kit.schemas import Body

AutomationKind = Literal["call_flow", "automation"]


class CreateAutomation(Body):
    name: str = Field(min_length=1, max_length=200)
    kind: AutomationKind
    number_ids: list[str] = Field(default_factory=list, max_length=500)


class AutomationOut(BaseModel):
    id: str
    name: str
    kind: AutomationKind
    number_ids: list[str]
    created_at: str
