"""Routes for the account and its API keys."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from numberdesk.accounts import service
from numberdesk.accounts.models import Account, ApiKey
from numberdesk.api.deps import ReadCtx, WriteCtx
from numberdesk.api.problems import problem_responses
from numberdesk.auth.context import Ctx
from numberdesk.kit.schemas import Body, Page
from numberdesk.kit.times import rfc3339

router = APIRouter(prefix="/v1", tags=["account"])
ERRORS = problem_responses(401, 403, 404, 422)
RoleName = Literal["owner", "admin", "member", "viewer"]


class AccountOut(BaseModel):
    id: str
    name: str
    timezone: str
    billing_status: Literal["good", "past_due"]
    cooldown_hours: int
    reclaim_days: int
    naming_template: str | None
    fallback_destination: str | None


class UpdateAccount(Body):
    timezone: str | None = Field(None, max_length=64)
    naming_template: str | None = Field(None, max_length=200)
    fallback_destination: str | None = Field(None, max_length=500)


class CreateKey(Body):
    name: str = Field(min_length=1, max_length=200)
    role: RoleName


class KeyOut(BaseModel):
    id: str
    name: str
    role: RoleName
    prefix: str
    created_at: str
    revoked_at: str | None


class NewKeyOut(BaseModel):
    id: str
    api_key: str
    name: str
    role: RoleName


def account_out(ctx: Ctx, a: Account) -> dict[str, object]:
    return {"id": a.id, "name": a.name, "timezone": a.timezone, "billing_status": a.billing_status,
            "cooldown_hours": ctx.settings.cooldown_hours, "reclaim_days": ctx.settings.reclaim_days,
            "naming_template": a.naming_template, "fallback_destination": a.fallback_destination}


def key_out(k: ApiKey) -> dict[str, object]:
    return {"id": k.id, "name": k.name, "role": k.role, "prefix": k.prefix,
            "created_at": rfc3339(k.created_at), "revoked_at": rfc3339(k.revoked_at)}


@router.get("/account", response_model=AccountOut, responses=ERRORS)
def get_account(ctx: ReadCtx) -> dict[str, object]:
    """The account, with the cooldown and reclaim window lengths in force."""
    return account_out(ctx, service.get_account(ctx))


@router.patch("/account", response_model=AccountOut, responses=ERRORS)
def update_account(body: UpdateAccount, ctx: WriteCtx) -> dict[str, object]:
    """Time zone, naming template and fallback route (admin and owner)."""
    fields = body.model_fields_set
    a = service.update_settings(ctx, fields=set(fields), **body.model_dump(include=fields))
    return account_out(ctx, a)


@router.post("/api-keys", status_code=201, response_model=NewKeyOut, responses=ERRORS)
def create_api_key(body: CreateKey, ctx: WriteCtx, response: Response) -> dict[str, object]:
    """Create an API key (owner). The secret is shown in this response only."""
    secret, key = service.create_key(ctx, body.name, body.role)
    # Nobody keeps a copy: caches, and the idempotency record (which seals it).
    response.headers["Cache-Control"] = "no-store"
    return {"id": key.id, "api_key": secret, "name": key.name, "role": key.role}


@router.get("/api-keys", response_model=Page[KeyOut], responses=ERRORS)
def list_api_keys(ctx: ReadCtx) -> dict[str, object]:
    return {"data": [key_out(k) for k in service.list_keys(ctx)], "next_cursor": None}


@router.delete("/api-keys/{key_id}", status_code=204, responses=ERRORS)
def revoke_api_key(key_id: str, ctx: WriteCtx) -> Response:
    """Revoke a key; requests with it are refused from now on."""
    service.revoke_key(ctx, key_id)
    return Response(status_code=204)
