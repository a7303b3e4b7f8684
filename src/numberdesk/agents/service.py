"""Agents and their destinations."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import func, select

from numberdesk.agents.models import AGENT_KINDS, Agent
from numberdesk.audit import service as audit
from numberdesk.context import Ctx
from numberdesk.errors import InvalidState, NotFound, ValidationFailed
from numberdesk.ids import new_id
from numberdesk.kit import phone
from numberdesk.numbers.models import PhoneNumber

_SIP = re.compile(r"^sips?:(?:[A-Za-z0-9._~!$&'()*+,;=%-]+@)?[A-Za-z0-9.-]+(?::\d{1,5})?(?:;[^\s]*)?$")


def destination_kind(destination: str) -> str:
    """``sip``, ``phone`` or ``stream``; the routing layer answers each differently."""
    if destination.startswith(("sip:", "sips:")):
        return "sip"
    if destination.startswith("wss://"):
        return "stream"
    return "phone"


def validate_destination(destination: str, field: str = "destination") -> str:
    """A SIP URI, an E.164 number or a ``wss://`` URL; anything else is a 422."""
    d = (destination or "").strip()
    if not d or len(d) > 500:
        raise ValidationFailed.field(field, "must be a SIP URI, an E.164 number or a wss:// URL")
    if d.startswith(("sip:", "sips:")):
        if not _SIP.match(d):
            raise ValidationFailed.field(field, f"{d!r} is not a SIP URI such as sip:agent@example.com")
        return d
    if d.startswith("wss://"):
        parts = urlsplit(d)
        if not parts.hostname or " " in d:
            raise ValidationFailed.field(field, f"{d!r} is not a wss:// URL with a host")
        return d
    if d.startswith(("ws://", "http://", "https://")):
        raise ValidationFailed.field(field, "stream destinations must use wss:// (TLS)")
    return phone.parse(d, field)


def _get(ctx: Ctx, agent_id: str) -> Agent:
    agent = ctx.session.scalar(select(Agent).where(Agent.id == agent_id, Agent.account_id == ctx.account_id))
    if agent is None:
        raise NotFound(f"No agent {agent_id} in this account.")
    return agent


def get(ctx: Ctx, agent_id: str) -> Agent:
    ctx.require("read")
    return _get(ctx, agent_id)


def _snapshot(a: Agent) -> dict[str, str]:
    return {"name": a.name, "kind": a.kind, "destination": a.destination}


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationFailed.field("name", "must be 1 to 200 characters")
    return name


def create(ctx: Ctx, name: str, kind: str, destination: str) -> Agent:
    ctx.require("agents.write")
    if kind not in AGENT_KINDS:
        raise ValidationFailed.field("kind", f"must be one of {', '.join(AGENT_KINDS)}")
    now = ctx.now()
    agent = Agent(id=new_id("agt"), account_id=ctx.account_id, name=_check_name(name), kind=kind,
                  destination=validate_destination(destination), created_at=now, updated_at=now)
    ctx.session.add(agent)
    ctx.session.flush()
    audit.record(ctx, "agent.create", "agent", agent.id, None, _snapshot(agent))
    return agent


def update(ctx: Ctx, agent_id: str, changes: dict[str, str]) -> Agent:
    ctx.require("agents.write")
    agent = _get(ctx, agent_id)
    before = _snapshot(agent)
    if "name" in changes:
        agent.name = _check_name(changes["name"])
    if "kind" in changes:
        if changes["kind"] not in AGENT_KINDS:
            raise ValidationFailed.field("kind", f"must be one of {', '.join(AGENT_KINDS)}")
        agent.kind = changes["kind"]
    if "destination" in changes:
        agent.destination = validate_destination(changes["destination"])
    agent.updated_at = ctx.now()
    audit.record(ctx, "agent.update", "agent", agent.id, before, _snapshot(agent))
    return agent


def delete(ctx: Ctx, agent_id: str) -> None:
    ctx.require("agents.write")
    agent = _get(ctx, agent_id)
    numbers = list(ctx.session.scalars(
        select(PhoneNumber.phone_number).where(
            PhoneNumber.account_id == ctx.account_id, PhoneNumber.agent_id == agent.id
        ).order_by(PhoneNumber.phone_number)))
    if numbers:
        raise InvalidState(
            f"Agent {agent.name} still has {len(numbers)} number(s) assigned: "
            f"{', '.join(numbers)}. Unassign or reassign them first.",
            numbers=numbers,
        )
    audit.record(ctx, "agent.delete", "agent", agent.id, _snapshot(agent), None)
    ctx.session.delete(agent)


def list_agents(ctx: Ctx, *, limit: int, after: tuple[str, str] | None) -> list[Agent]:
    ctx.require("read")
    q = select(Agent).where(Agent.account_id == ctx.account_id)
    if after:
        q = q.where((Agent.name > after[0]) | ((Agent.name == after[0]) & (Agent.id > after[1])))
    return list(ctx.session.scalars(q.order_by(Agent.name, Agent.id).limit(limit + 1)))


def number_counts(ctx: Ctx, agent_ids: list[str]) -> dict[str, int]:
    if not agent_ids:
        return {}
    rows = ctx.session.execute(
        select(PhoneNumber.agent_id, func.count()).where(
            PhoneNumber.account_id == ctx.account_id, PhoneNumber.agent_id.in_(agent_ids)
        ).group_by(PhoneNumber.agent_id))
    return {a: n for a, n in rows}
