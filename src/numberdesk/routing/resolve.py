"""Where an in-service number's calls go: its agent, else its pool's inbound agent, else the
account's fallback route, else nowhere. Pure: the one statement of that rule, read by the
routing decision, the troubleshooting checks and the attribution of ingested calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TargetKind = Literal["agent", "pool", "fallback", "none"]


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    destination: str | None = None
    agent_id: str | None = None       # the agent that takes the calls (its own, or the pool's)
    agent_name: str | None = None
    pool_name: str | None = None      # set when the number is in a pool (with or without an agent)

    @property
    def in_pool_without_agent(self) -> bool:
        return self.kind in ("fallback", "none") and self.pool_name is not None


def target(*, agent_id: str | None, agent_name: str | None, agent_destination: str | None,
           pool_id: str | None, pool_name: str | None, pool_agent_id: str | None,
           pool_agent_name: str | None, pool_agent_destination: str | None,
           fallback: str | None) -> Target:
    """The target of a number's calls from its assignment (agents and pools of its own account)."""
    if agent_id is not None:
        return Target("agent", agent_destination, agent_id, agent_name)
    shown_pool = (pool_name or pool_id) if pool_id is not None else None
    if pool_id is not None and pool_agent_id is not None:
        return Target("pool", pool_agent_destination, pool_agent_id, pool_agent_name, shown_pool)
    if fallback:
        return Target("fallback", fallback, pool_name=shown_pool)
    return Target("none", pool_name=shown_pool)
