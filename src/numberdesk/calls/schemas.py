"""Request and response shapes of calls."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from numberdesk.calls.models import Call
from numberdesk.kit.schemas import Body
from numberdesk.kit.times import rfc3339

CallStatus = Literal["completed", "no_answer", "busy", "failed", "canceled"]


class CallIn(BaseModel):
    """One finished call; times are RFC 3339 with an offset.

    Unknown fields are refused as in every body. Its text fields are each checked as a
    phone number by the service, which is what keeps NUL characters out, so the
    generic NUL check of ``Body`` (a tenth of a batch's validation time) is not repeated
    on the 10,000 records of a batch.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    number: str = Field(max_length=40, description="The account's number (E.164) the call was on")
    direction: Literal["inbound", "outbound"]
    from_: str = Field(alias="from", min_length=1, max_length=40)
    to: str = Field(min_length=1, max_length=40)
    started_at: AwareDatetime
    answered_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = None
    status: CallStatus


class IngestCalls(Body):
    calls: list[CallIn] = Field(min_length=1, max_length=10_000)


class IngestOut(BaseModel):
    ingested: int


class CallOut(BaseModel):
    id: str
    number_id: str
    number: str
    agent_id: str | None
    direction: Literal["inbound", "outbound"]
    from_: str = Field(alias="from")
    to: str
    status: CallStatus
    started_at: str
    answered_at: str | None
    ended_at: str | None
    duration_seconds: int
    provider: str | None


class ActiveCallOut(BaseModel):
    number_id: str
    agent_id: str | None
    provider: str
    call_sid: str
    status: Literal["ringing", "in_progress"]
    from_: str | None = Field(alias="from")
    to: str | None
    started_at: str
    answered_at: str | None


def call_out(c: Call, e164: str) -> dict[str, object]:
    return {
        "id": c.id, "number_id": c.number_id, "number": e164, "agent_id": c.agent_id,
        "direction": c.direction, "from": c.from_number, "to": c.to_number, "status": c.status,
        "started_at": rfc3339(c.started_at), "answered_at": rfc3339(c.answered_at),
        "ended_at": rfc3339(c.ended_at), "duration_seconds": c.duration_seconds, "provider": c.provider,
    }


CSV_COLUMNS = ("id", "number_id", "number", "agent_id", "direction", "from", "to", "status",
               "started_at", "answered_at", "ended_at", "duration_seconds", "provider")
