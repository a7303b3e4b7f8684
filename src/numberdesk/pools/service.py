"""Number pools: several numbers with one inbound route (an agent) and an outbound caller-ID strategy."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from numberdesk.agents.models import Agent
from numberdesk.audit import service as audit
from numberdesk.auth.context import Ctx
from numberdesk.errors import InvalidState, NotFound, ValidationFailed
from numberdesk.kit import phone
from numberdesk.kit.ids import new_id
from numberdesk.numbers import repository as numbers
from numberdesk.numbers.models import PhoneNumber
from numberdesk.pools.models import POOL_STRATEGIES, Pool, PoolSticky


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
    return numbers.count_assigned(ctx, pool_ids=pool_ids)


# -- outbound caller ID ----------------------------------------------------------------
@dataclass
class CallerId:
    number: PhoneNumber
    reason: str
    strategy: str = "local_presence"
    callee: str = ""


def _area(e164: str) -> str | None:
    try:
        return phone.destination_code(e164)
    except Exception:  # an unparseable stored number just never matches
        return None


def local_presence(candidates: list[PhoneNumber], callee: str) -> CallerId:
    """The pool number whose area code matches the callee's; else the nearest: same state
    or province, then same country, then the numerically closest area code (a proxy for
    distance that the numbering plans follow loosely)."""
    area = _area(callee)
    for n in candidates:
        if area and _area(n.phone_number) == area:
            return CallerId(n, f"same area code ({area})")
    region = phone.nanp_state(callee)
    if region:
        for n in candidates:
            if n.region == region:
                return CallerId(n, f"same state/province ({region})")
    country = phone.country_of(callee)
    same_country = [n for n in candidates if n.country == country] or candidates
    if area and area.isdigit():
        best = min(same_country, key=lambda n: (abs(int(_area(n.phone_number) or 0) - int(area)), n.phone_number))
        return CallerId(best, f"nearest area code to {area}")
    return CallerId(same_country[0], "same country" if same_country is not candidates else "no closer number")


def caller_id(ctx: Ctx, pool_id: str, to: str) -> CallerId:
    """The number a call from this pool to ``to`` should show, by the pool's strategy.

    Only the pool's active numbers with voice are candidates. round_robin and sticky
    keep their state in the database (a cursor; a callee → number row), so every API
    process agrees.
    """
    ctx.require("pools.dial")
    callee = phone.parse(to, "to")
    pool = get_for_update(ctx, pool_id)
    candidates = numbers.voice_numbers_in_service(ctx, pool_id=pool.id)
    if not candidates:
        raise InvalidState(f"Pool {pool.name} has no active voice number to call from; "
                           "assign an active number to it first.")
    pick = _pick(ctx, pool, candidates, callee)
    pick.strategy, pick.callee = pool.strategy, callee
    return pick


def _pick(ctx: Ctx, pool: Pool, candidates: list[PhoneNumber], callee: str) -> CallerId:
    if pool.strategy == "local_presence":
        return local_presence(candidates, callee)
    if pool.strategy == "round_robin":
        turn = pool.rr_cursor
        pool.rr_cursor = turn + 1
        return CallerId(candidates[turn % len(candidates)], f"round robin, turn {turn + 1}")
    # sticky: the same callee sees the same number while it stays in service in the pool.
    by_id = {n.id: n for n in candidates}
    row = ctx.session.get(PoolSticky, (pool.id, callee))
    if row is not None and row.number_id in by_id:
        return CallerId(by_id[row.number_id], "the number this callee saw before")
    chosen = local_presence(candidates, callee).number
    if row is None:
        ctx.session.add(PoolSticky(pool_id=pool.id, callee=callee, number_id=chosen.id, created_at=ctx.now()))
        reason = "first call to this callee (closest number, kept from now on)"
    else:
        row.number_id = chosen.id
        reason = "the number this callee saw before is out of service; a new one is kept from now on"
    return CallerId(chosen, reason)


def get_for_update(ctx: Ctx, pool_id: str) -> Pool:
    """The pool, locked until the transaction ends (round_robin's cursor moves once per call)."""
    p = ctx.session.scalar(select(Pool).where(Pool.id == pool_id, Pool.account_id == ctx.account_id)
                           .with_for_update())
    if p is None:
        raise NotFound(f"No pool {pool_id} in this account.")
    return p
