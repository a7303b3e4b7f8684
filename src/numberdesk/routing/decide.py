"""The routing decision, in one place: which destination a call to a number reaches, and why.

number dialed → its status → its assignment (an agent's destination; a pool's
agent) → the account's fallback → *not in service*. Only the live row of a
number (``returned_at IS NULL``) counts, so a number that went back to the
carrier and was bought by another account reaches only the new owner, and a
released number never reaches the agent it had.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session, aliased

from numberdesk.accounts.models import Account
from numberdesk.agents.destinations import destination_kind
from numberdesk.agents.models import Agent
from numberdesk.auth.context import Ctx
from numberdesk.errors import NotFound
from numberdesk.kit import phone
from numberdesk.kit.times import rfc3339
from numberdesk.numbers.lifecycle import Status
from numberdesk.numbers.models import PhoneNumber
from numberdesk.pools.models import Pool
from numberdesk.routing import resolve, twiml

RouteType = Literal["agent", "pool", "fallback", "not_in_service"]

# Why an inactive number routes no calls, by the cause its ``status_reason`` shows.
CAUSE_DETAIL = {
    "billing": "the account is past due",
    "configuration": "the carrier reports a configuration problem",
}


@dataclass
class RouteDecision:
    number_id: str | None
    account_id: str | None
    status: str | None
    type: RouteType
    destination: str | None
    agent_id: str | None
    reason: str

    @property
    def routed(self) -> bool:
        return self.type != "not_in_service"


_agent = aliased(Agent, name="agent")
_pool_agent = aliased(Agent, name="pool_agent")

# One indexed lookup (the partial unique index on live E.164s) with everything the
# decision needs joined in; the agents must belong to the number's account.
ROUTE_QUERY = (
    select(
        PhoneNumber.id, PhoneNumber.account_id, PhoneNumber.status, PhoneNumber.status_reason,
        PhoneNumber.released_at, PhoneNumber.pool_id,
        _agent.id, _agent.name, _agent.destination,
        Pool.name, _pool_agent.id, _pool_agent.name, _pool_agent.destination,
        Account.fallback_destination,
    )
    .select_from(PhoneNumber)
    .join(Account, Account.id == PhoneNumber.account_id)
    .outerjoin(_agent, and_(_agent.id == PhoneNumber.agent_id, _agent.account_id == PhoneNumber.account_id))
    .outerjoin(Pool, and_(Pool.id == PhoneNumber.pool_id, Pool.account_id == PhoneNumber.account_id))
    .outerjoin(_pool_agent, and_(_pool_agent.id == Pool.agent_id,
                                 _pool_agent.account_id == PhoneNumber.account_id))
    .where(PhoneNumber.phone_number == bindparam("e164"), PhoneNumber.returned_at.is_(None))
)


def decide(session: Session, e164: str, now: dt.datetime) -> RouteDecision:
    """Where a call to ``e164`` goes now, and why (never raises for an unknown number)."""
    return decision_from_row(e164, lookup(session, e164), now)


def decision_from_row(e164: str, row: Any, now: dt.datetime) -> RouteDecision:
    """The decision for a row of the route query (None: nobody holds the number)."""
    if row is None:
        return RouteDecision(None, None, None, "not_in_service", None, None,
                             f"No account holds {e164}: calls are answered as not in service.")
    number_id, account_id, status, status_reason, released_at = row[:5]

    def nis(reason: str) -> RouteDecision:
        return RouteDecision(number_id, account_id, status, "not_in_service", None, None, reason)

    if status == Status.released:
        since = f" on {rfc3339(released_at)}" if released_at else ""
        return nis(f"The number was released{since}; a released number routes no calls.")
    if status == Status.pending:
        return nis("The number is pending: the carrier is still provisioning it, so it routes no calls yet.")
    if status == Status.inactive:
        why = CAUSE_DETAIL.get(status_reason or "", status_reason or "unknown cause")
        return nis(f"The number is inactive ({why}); it routes no calls until that is resolved.")
    t = target_of_row(row)
    if t.kind == "agent":
        return RouteDecision(number_id, account_id, status, "agent", t.destination, t.agent_id,
                             f"Assigned to agent {t.agent_name}: calls go to {t.destination}.")
    if t.kind == "pool":
        return RouteDecision(number_id, account_id, status, "pool", t.destination, t.agent_id,
                             f"In pool {t.pool_name}, whose inbound route is agent {t.agent_name}: "
                             f"calls go to {t.destination}.")
    lead = (f"In pool {t.pool_name}, which has no inbound agent" if t.in_pool_without_agent
            else "The number is active but not assigned")
    if t.kind == "fallback":
        return RouteDecision(number_id, account_id, status, "fallback", t.destination, None,
                             f"{lead}: calls go to the account's fallback route {t.destination}.")
    return nis(f"{lead}, and the account has no fallback route: calls are answered as not in service.")


def target_of_row(row: Any) -> resolve.Target:
    """Where the number of a route-query row sends its calls while in service."""
    (_, _, _, _, _, pool_id, agent_id, agent_name, agent_dest, pool_name, pool_agent_id, pool_agent_name,
     pool_agent_dest, fallback) = row
    return resolve.target(agent_id=agent_id, agent_name=agent_name, agent_destination=agent_dest,
                          pool_id=pool_id, pool_name=pool_name, pool_agent_id=pool_agent_id,
                          pool_agent_name=pool_agent_name, pool_agent_destination=pool_agent_dest,
                          fallback=fallback)


def lookup(session: Session, e164: str) -> Any:
    """The route-query row of the live number ``e164`` (None: nobody holds it)."""
    return session.execute(ROUTE_QUERY, {"e164": e164}).first()


def answer_for(decision: RouteDecision) -> str:
    """The TwiML (and TeXML) document a carrier is answered with for this decision."""
    if not decision.routed or not decision.destination:
        return twiml.not_in_service()
    return twiml.connect(destination_kind(decision.destination), decision.destination)


def route_for_account(ctx: Ctx, e164: str) -> RouteDecision:
    """The decision for a number this account holds; another account's number is a 404."""
    ctx.require("read")
    e164 = phone.parse(e164, "e164")
    d = decide(ctx.session, e164, ctx.now())
    if d.account_id != ctx.account_id:
        raise NotFound(f"No number {e164} in this account.")
    return d


def test_call(ctx: Ctx, number_id: str, from_: str | None) -> dict[str, Any]:
    """Run the whole routing path for a number without a carrier: what a caller would reach and why."""
    ctx.require("numbers.test_call")
    n = ctx.session.scalar(select(PhoneNumber).where(PhoneNumber.id == number_id,
                                                     PhoneNumber.account_id == ctx.account_id))
    if n is None:
        raise NotFound(f"No number {number_id} in this account.")
    caller = phone.parse(from_, "from") if from_ else None
    if n.returned_at is not None:
        d = RouteDecision(n.id, n.account_id, n.status, "not_in_service", None, None,
                          "The reclaim window ended and the number went back to the carrier; "
                          "this account's calls no longer reach it.")
    else:
        d = decide(ctx.session, n.phone_number, ctx.now())
    agent_name = None
    if d.agent_id:
        agent_name = ctx.session.scalar(select(Agent.name).where(Agent.id == d.agent_id,
                                                                 Agent.account_id == ctx.account_id))
    kind = destination_kind(d.destination) if d.destination else None
    if not d.routed:
        reaches = "The caller hears that the number is not in service, then the call ends."
    elif kind == "stream":
        reaches = f"The call is streamed to {agent_name or 'the AI agent'} at {d.destination}."
    elif kind == "sip":
        reaches = f"The call rings {agent_name or 'the SIP endpoint'} at {d.destination}."
    else:
        reaches = f"The call is forwarded to {agent_name + ' at ' if agent_name else ''}{d.destination}."
    return {
        "number_id": n.id, "phone_number": n.phone_number, "from": caller, "status": n.status,
        "route": {"type": d.type, "destination": d.destination, "agent_id": d.agent_id,
                  "agent_name": agent_name, "destination_kind": kind},
        "reason": d.reason, "reaches": reaches, "twiml": answer_for(d), "at": rfc3339(ctx.now()),
    }
