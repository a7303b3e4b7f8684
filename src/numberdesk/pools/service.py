"""Number pools: several numbers with one inbound route (an agent) and an outbound caller-ID strategy."""

from __future__ import annotations

from sqlalchemy import func, select

from numberdesk.agents.models import Agent
from numberdesk.audit import service as audit
from numberdesk.context import Ctx
from numberdesk.errors import NotFound, ValidationFailed
from numberdesk.ids import new_id
from numberdesk.numbers.models import PhoneNumber
from numberdesk.pools.models import POOL_STRATEGIES, Pool


def _snapshot(p: Pool) -> dict[str, object]:
    return {"name": p.name, "strategy": p.strategy, "agent_id": p.agent_id}


def _check(ctx: Ctx, name: str | None, strategy: str | None, agent_id: str | None) -> None:
    if name is not None and not (1 <= len(name.strip()) <= 200):
        raise ValidationFailed.field("name", "must be 1 to 200 characters")
    if strategy is not None and strategy not in POOL_STRATEGIES:
        raise ValidationFailed.field("strategy", f"must be one of {', '.join(POOL_STRATEGIES)}")
    if agent_id is not None and ctx.session.scalar(
            select(Agent.id).where(Agent.id == agent_id, Agent.account_id == ctx.account_id)) is None:
        raise NotFound(f"No agent {agent_id} in this account.")


def create(ctx: Ctx, name: str, strategy: str = "round_robin", agent_id: str | None = None) -> Pool:
    ctx.require("pools.write")
    _check(ctx, name, strategy, agent_id)
    p = Pool(id=new_id("pool"), account_id=ctx.account_id, name=name.strip(), strategy=strategy,
             agent_id=agent_id, created_at=ctx.now())
    ctx.session.add(p)
    ctx.session.flush()
    audit.record(ctx, "pool.create", "pool", p.id, None, _snapshot(p))
    return p


def get(ctx: Ctx, pool_id: str) -> Pool:
    ctx.require("read")
    p = ctx.session.scalar(select(Pool).where(Pool.id == pool_id, Pool.account_id == ctx.account_id))
    if p is None:
        raise NotFound(f"No pool {pool_id} in this account.")
    return p


def update(ctx: Ctx, pool_id: str, changes: dict[str, object]) -> Pool:
    """Rename, change the strategy or the inbound agent (``agent_id: null`` removes it)."""
    ctx.require("pools.write")
    p = get(ctx, pool_id)
    _check(ctx, changes.get("name"), changes.get("strategy"), changes.get("agent_id"))  # type: ignore[arg-type]
    before = _snapshot(p)
    if changes.get("name") is not None:
        p.name = str(changes["name"]).strip()
    if changes.get("strategy") is not None:
        p.strategy = str(changes["strategy"])
    if "agent_id" in changes:
        p.agent_id = changes["agent_id"]  # type: ignore[assignment]
    audit.record(ctx, "pool.update", "pool", p.id, before, _snapshot(p))
    return p


def list_pools(ctx: Ctx) -> list[Pool]:
    ctx.require("read")
    return list(ctx.session.scalars(select(Pool).where(Pool.account_id == ctx.account_id)
                                    .order_by(Pool.name, Pool.id)))


def number_counts(ctx: Ctx, pool_ids: list[str]) -> dict[str, int]:
    if not pool_ids:
        return {}
    return dict(ctx.session.execute(
        select(PhoneNumber.pool_id, func.count()).where(
            PhoneNumber.account_id == ctx.account_id, PhoneNumber.pool_id.in_(pool_ids))
        .group_by(PhoneNumber.pool_id)).all())
