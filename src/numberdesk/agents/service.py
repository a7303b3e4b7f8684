"""Agents: the targets calls are delivered to (their destinations: ``agents.destinations``)."""

from __future__ import annotations

from sqlalchemy import select

from numberdesk.agents.destinations import validate_destination
from numberdesk.agents.models import AGENT_KINDS, Agent
from numberdesk.audit import service as audit
from numberdesk.auth.context import Ctx
from numberdesk.errors import InvalidState, NotFound, ValidationFailed
from numberdesk.kit.ids import new_id
from numberdesk.numbers import repository as numbers


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
    assigned = numbers.numbers_of_agent(ctx, agent.id)
    if assigned:
        raise InvalidState(
            f"Agent {agent.name} still has {len(assigned)} number(s) assigned: "
            f"{', '.join(assigned)}. Unassign or reassign them first.",
            numbers=assigned,
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
    return numbers.count_assigned(ctx, agent_ids=agent_ids)


def choices(ctx: Ctx) -> list[tuple[str, str]]:
    """(id, name) of every agent of the account, by name: for pickers."""
    ctx.require("read")
    return [tuple(r) for r in ctx.session.execute(  # type: ignore[misc]
        select(Agent.id, Agent.name).where(Agent.account_id == ctx.account_id).order_by(Agent.name)).all()]
