"""Accounts, people and API keys: the only writer of their tables."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from numberdesk.accounts.models import Account, ApiKey, BillingStatus, User
from numberdesk.agents.destinations import validate_destination
from numberdesk.audit import service as audit
from numberdesk.auth.context import Ctx
from numberdesk.auth.permissions import Role
from numberdesk.auth.secrets import (
    hash_api_key,
    hash_password,
    new_api_key,
    new_password,
    verify_password,
)
from numberdesk.errors import NotFound, ValidationFailed
from numberdesk.kit.ids import new_id
from numberdesk.numbers.naming import template_regex


@dataclass
class NewAccount:
    account: Account
    owner: User
    password: str
    api_key: str
    key: ApiKey


def validate_timezone(tz: str) -> str:
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed.field("timezone", f"{tz!r} is not an IANA time zone such as Europe/London") from None
    return tz


def create_account(
    session: Session, now: dt.datetime, name: str, owner_email: str, *,
    timezone: str = "UTC", password: str | None = None,
) -> NewAccount:
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationFailed.field("name", "must be 1 to 200 characters")
    email = owner_email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise ValidationFailed.field("owner_email", "must be an email address")
    if session.scalar(select(User.id).where(User.email == email)):
        raise ValidationFailed.field("owner_email", f"{email} already has a sign-in")
    account = Account(id=new_id("acct"), name=name, timezone=validate_timezone(timezone),
                      billing_status=BillingStatus.good.value, created_at=now)
    password = password or new_password()
    owner = User(id=new_id("usr"), account_id=account.id, email=email, password_hash=hash_password(password),
                 role=Role.owner, created_at=now)
    session.add_all([account, owner])
    session.flush()
    audit.write(session, account_id=account.id, actor=owner.id, action="account.create", target_type="account",
                target_id=account.id, before=None, after={"name": name, "owner_email": email}, at=now)
    secret, key = issue_key(session, account.id, "Owner key", Role.owner, now, actor=owner.id)
    return NewAccount(account, owner, password, secret, key)


def _check_role(role: str) -> None:
    try:
        Role(role)
    except ValueError:
        raise ValidationFailed.field("role", "must be one of owner, admin, member, viewer") from None


def issue_key(session: Session, account_id: str, name: str, role: str, now: dt.datetime, *,
              actor: str = "system", request_id: str | None = None) -> tuple[str, ApiKey]:
    """Create an API key without a permission check (account bootstrap, operator tools);
    the secret is returned once and never stored."""
    _check_role(role)
    secret = new_api_key()
    key = ApiKey(id=new_id("key"), account_id=account_id, name=name, role=role,
                 key_hash=hash_api_key(secret), prefix=secret[:8], created_at=now)
    session.add(key)
    session.flush()
    audit.write(session, account_id=account_id, actor=actor, action="api_key.create", target_type="api_key",
                target_id=key.id, before=None, after={"name": name, "role": role}, at=now, request_id=request_id)
    return secret, key


def create_key(ctx: Ctx, name: str, role: str) -> tuple[str, ApiKey]:
    ctx.require("keys.manage")
    return issue_key(ctx.session, ctx.account_id, name, role, ctx.now(), actor=ctx.actor,
                     request_id=ctx.request_id)


def list_keys(ctx: Ctx) -> list[ApiKey]:
    ctx.require("keys.manage")
    return list(ctx.session.scalars(
        select(ApiKey).where(ApiKey.account_id == ctx.account_id).order_by(ApiKey.created_at, ApiKey.id)))


def revoke_key(ctx: Ctx, key_id: str) -> ApiKey:
    ctx.require("keys.manage")
    key = ctx.session.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.account_id == ctx.account_id))
    if key is None:
        raise NotFound(f"No API key {key_id} in this account.")
    if key.revoked_at is None:
        key.revoked_at = ctx.now()
        audit.record(ctx, "api_key.revoke", "api_key", key.id, {"revoked": False}, {"revoked": True})
    return key


def authenticate_key(session: Session, secret: str) -> ApiKey | None:
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_api_key(secret)))
    if key is None or key.revoked_at is not None:
        return None
    return key


def email_taken(session: Session, email: str) -> bool:
    """Whether somebody already signs in with ``email``."""
    return session.scalar(select(User.id).where(User.email == email.strip().lower())) is not None


def authenticate_password(session: Session, email: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not verify_password(user.password_hash, password):
        return None
    return user


def get_account(ctx: Ctx) -> Account:
    account = ctx.session.get(Account, ctx.account_id)
    if account is None:
        raise NotFound("No such account.")
    return account


def get_account_by_id(session: Session, account_id: str) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"No account {account_id}.")
    return account


def update_settings(ctx: Ctx, *, timezone: str | None = None, naming_template: str | None = None,
                    fallback_destination: str | None = None, fields: set[str]) -> Account:
    """Change the account's settings; ``fields`` names those given (None clears)."""
    ctx.require("account.settings")
    account = get_account(ctx)
    before = {f: getattr(account, f) for f in fields}
    if "timezone" in fields:
        account.timezone = validate_timezone(timezone or "UTC")
    if "naming_template" in fields:
        if naming_template:
            template_regex(naming_template)  # refuses unknown {fields} with a 422
        account.naming_template = naming_template or None
    if "fallback_destination" in fields:
        account.fallback_destination = (
            validate_destination(fallback_destination, "fallback_destination") if fallback_destination else None
        )
    audit.record(ctx, "account.update", "account", account.id, before, {f: getattr(account, f) for f in fields})
    return account


# -- people who sign in to the dashboard --------------------------------------------
def get_user(session: Session, user_id: str) -> User | None:
    """The user behind a dashboard session, or None when it no longer exists."""
    return session.get(User, user_id)


def end_sessions(session: Session, user_id: str) -> None:
    """Sign a person out everywhere: every dashboard cookie issued so far stops working."""
    session.execute(update(User).where(User.id == user_id).values(session_epoch=User.session_epoch + 1))


def create_user(ctx: Ctx, email: str, role: str) -> tuple[User, str]:
    """Give a person a dashboard sign-in in this account; returns the generated password (shown once)."""
    ctx.require("users.manage")
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise ValidationFailed.field("email", "must be an email address")
    _check_role(role)
    if ctx.session.scalar(select(User.id).where(User.email == email)):
        raise ValidationFailed.field("email", f"{email} already has a sign-in")
    password = new_password()
    user = User(id=new_id("usr"), account_id=ctx.account_id, email=email,
                password_hash=hash_password(password), role=role, created_at=ctx.now())
    ctx.session.add(user)
    ctx.session.flush()
    audit.record(ctx, "user.create", "user", user.id, None, {"email": email, "role": role})
    return user, password


def list_users(ctx: Ctx) -> list[User]:
    ctx.require("users.manage")
    return list(ctx.session.scalars(
        select(User).where(User.account_id == ctx.account_id).order_by(User.created_at, User.id)))


def actor_labels(ctx: Ctx, actors: list[str]) -> dict[str, str]:
    """How a person reads actor ids of this account: a user's email, an API key's name."""
    ctx.require("read")
    out: dict[str, str] = {}
    users = sorted({a for a in actors if a and a.startswith("usr_")})
    keys = sorted({a for a in actors if a and a.startswith("key_")})
    if users:
        for user_id, email in ctx.session.execute(
                select(User.id, User.email).where(User.account_id == ctx.account_id, User.id.in_(users))):
            out[user_id] = email
    if keys:
        for key_id, name in ctx.session.execute(
                select(ApiKey.id, ApiKey.name).where(ApiKey.account_id == ctx.account_id, ApiKey.id.in_(keys))):
            out[key_id] = f"API key “{name}”"
    return out
