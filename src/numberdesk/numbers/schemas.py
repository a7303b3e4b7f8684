"""Request and response shapes of numbers and available numbers, and how a page of numbers is shown."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from numberdesk.auth.context import Ctx
from numberdesk.kit import phone
from numberdesk.kit.money import money
from numberdesk.kit.schemas import Body, MoneyOut
from numberdesk.kit.times import rfc3339
from numberdesk.numbers import lifecycle, repository
from numberdesk.numbers.models import PhoneNumber
from numberdesk.providers.base import Listing

NumberType = Literal["local", "toll_free", "mobile"]


class Capabilities(BaseModel):
    voice: bool
    sms: bool
    mms: bool


class AvailableNumberOut(BaseModel):
    phone_number: str
    national_format: str
    country: str
    type: NumberType
    capabilities: Capabilities
    locality: str | None
    region: str | None
    monthly_price: MoneyOut
    setup_price: MoneyOut


class AssignmentOut(BaseModel):
    type: Literal["agent", "pool"]
    id: str
    name: str


class ReleaseOut(BaseModel):
    reason: str
    reason_text: str | None
    notes: str | None
    released_at: str
    released_by: str | None
    cooldown_ends_at: str
    reclaim_deadline: str


class NumberOut(BaseModel):
    id: str
    phone_number: str
    national_format: str
    country: str
    type: NumberType
    capabilities: Capabilities
    friendly_name: str
    tags: list[str]
    department: str | None
    locality: str | None
    region: str | None
    status: Literal["pending", "active", "inactive", "released"]
    status_reason: Literal["billing", "configuration"] | None
    assignment: AssignmentOut | None
    monthly_price: MoneyOut
    provider: str
    purchased_at: str
    activated_at: str | None
    provisioning_overdue: bool
    returned_to_carrier: bool = False
    release: ReleaseOut | None


class BuyNumber(Body):
    phone_number: str = Field(max_length=40)
    friendly_name: str | None = Field(None, max_length=200)
    agent_id: str | None = Field(None, max_length=40)
    tags: list[str] | None = Field(None, max_length=20)
    department: str | None = Field(None, max_length=100)


class UpdateNumber(Body):
    friendly_name: str | None = Field(None, min_length=1, max_length=200)
    tags: list[str] | None = Field(None, max_length=20)
    department: str | None = Field(None, max_length=100)


class AssignNumber(Body):
    agent_id: str | None = Field(None, max_length=40)
    pool_id: str | None = Field(None, max_length=40)


class StatusChangeOut(BaseModel):
    from_: str | None = Field(alias="from")
    to: str
    reason: str | None
    actor: str
    at: str


def listing_out(x: Listing) -> dict[str, object]:
    return {
        "phone_number": x.phone_number, "national_format": x.national_format, "country": x.country,
        "type": x.type, "capabilities": {"voice": x.voice, "sms": x.sms, "mms": x.mms},
        "locality": x.locality, "region": x.region,
        "monthly_price": money(x.monthly_price_minor, x.currency),
        "setup_price": money(x.setup_price_minor, x.currency),
    }


def number_out(n: PhoneNumber, *, tags: list[str], names: dict[str, str], now: dt.datetime,
               overdue_hours: int = 48) -> dict[str, object]:
    assignment = None
    if n.agent_id:
        assignment = {"type": "agent", "id": n.agent_id, "name": names.get(n.agent_id, "")}
    elif n.pool_id:
        assignment = {"type": "pool", "id": n.pool_id, "name": names.get(n.pool_id, "")}
    release = None
    if n.status == lifecycle.Status.released and n.released_at is not None:
        release = {
            "reason": n.release_reason, "reason_text": n.release_reason_text, "notes": n.release_notes,
            "released_at": rfc3339(n.released_at), "released_by": n.released_by,
            "cooldown_ends_at": rfc3339(n.cooldown_ends_at), "reclaim_deadline": rfc3339(n.reclaim_deadline),
        }
    return {
        "id": n.id, "phone_number": n.phone_number, "national_format": phone.national_format(n.phone_number),
        "country": n.country, "type": n.type,
        "capabilities": {"voice": n.cap_voice, "sms": n.cap_sms, "mms": n.cap_mms},
        "friendly_name": n.friendly_name, "tags": tags, "department": n.department,
        "locality": n.locality, "region": n.region, "status": n.status, "status_reason": n.status_reason,
        "assignment": assignment, "monthly_price": money(n.monthly_price_minor, n.currency),
        "provider": n.provider, "purchased_at": rfc3339(n.purchased_at), "activated_at": rfc3339(n.activated_at),
        "provisioning_overdue": lifecycle.provisioning_overdue(n.status, n.purchased_at, now, overdue_hours),
        "returned_to_carrier": n.returned_at is not None,
        "release": release,
    }


def present(ctx: Ctx, numbers: list[PhoneNumber]) -> list[dict[str, object]]:
    """Numbers as the API shows them (tags and assignee names fetched per page)."""
    tags = repository.tags_of(ctx, [n.id for n in numbers])
    names = repository.assignment_names(ctx, numbers)
    now = ctx.now()
    hours = ctx.settings.provisioning_overdue_hours
    return [number_out(n, tags=tags[n.id], names=names, now=now, overdue_hours=hours) for n in numbers]


def present_one(ctx: Ctx, n: PhoneNumber) -> dict[str, object]:
    return present(ctx, [n])[0]
