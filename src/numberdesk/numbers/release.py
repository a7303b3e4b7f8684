"""Releasing a number and reclaiming it: the I/O around the rules of ``lifecycle``.

Release: the role may release, the request is complete (reason, acknowledgement),
no maintenance, the status allows it, and nothing blocks it (calls in progress,
call flows or automations that use it: all listed at once). Reactivation: every
check of ``lifecycle.reactivation_eligibility``, enforced in its order.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select

from numberdesk.accounts.models import Account, BillingStatus
from numberdesk.agents.models import Agent
from numberdesk.auth.context import Ctx
from numberdesk.automations.models import Automation, AutomationNumber
from numberdesk.calls.models import ActiveCall
from numberdesk.errors import (
    InCooldown,
    InvalidState,
    NotEligible,
    ReclaimWindowExpired,
    ReleaseBlocked,
    ValidationFailed,
)
from numberdesk.kit.times import rfc3339
from numberdesk.maintenance.service import ensure_no_maintenance
from numberdesk.numbers import history, lifecycle, repository
from numberdesk.numbers.history import snapshot
from numberdesk.numbers.lifecycle import Action, Check, Eligibility, Status
from numberdesk.numbers.models import PhoneNumber
from numberdesk.pools.models import Pool
from numberdesk.providers.registry import get_carrier

__all__ = ["Check", "Eligibility", "reactivate", "reactivation", "release", "release_blockers"]


def dependencies(ctx: Ctx, number_id: str) -> list[Automation]:
    """Call flows and automations of this account that use the number, by name."""
    return list(ctx.session.scalars(
        select(Automation)
        .join(AutomationNumber, AutomationNumber.automation_id == Automation.id)
        .where(Automation.account_id == ctx.account_id, AutomationNumber.number_id == number_id)
        .order_by(Automation.name, Automation.id)))


def _kind(kind: str) -> str:
    return "call flow" if kind == "call_flow" else "automation"


def release_blockers(ctx: Ctx, number: PhoneNumber, *, detach_dependencies: bool = False) -> list[dict]:  # type: ignore[type-arg]
    """Everything that keeps the number from being released now (no role check).

    ``[{code, detail, …}]``: ``active_calls`` (with ``count``) and
    ``has_dependencies`` (with ``dependencies: [{id, name, kind}]``; left out when
    the caller will detach them).
    """
    blockers: list[dict] = []  # type: ignore[type-arg]
    calls = ctx.session.scalar(
        select(func.count()).select_from(ActiveCall)
        .where(ActiveCall.account_id == ctx.account_id, ActiveCall.number_id == number.id)) or 0
    if calls:
        blockers.append({
            "code": lifecycle.ACTIVE_CALLS, "count": calls,
            "detail": f"{calls} call{'s are' if calls > 1 else ' is'} in progress on {number.phone_number}; "
                      "wait until they end.",
        })
    if not detach_dependencies:
        deps = dependencies(ctx, number.id)
        if deps:
            names = ", ".join(f"{_kind(a.kind)} '{a.name}'" for a in deps)
            blockers.append({
                "code": lifecycle.HAS_DEPENDENCIES,
                "detail": f"Used by {names}; detach them first or release with detach_dependencies.",
                "dependencies": [{"id": a.id, "name": a.name, "kind": a.kind} for a in deps],
            })
    return blockers


def release(
    ctx: Ctx, number_id: str, *, reason: str, reason_text: str | None, notes: str | None,
    acknowledge: bool, detach_dependencies: bool = False,
) -> PhoneNumber:
    """Release the number: it becomes ``released``, its assignment is cleared and
    remembered, and its cooldown and reclaim window start now."""
    ctx.require("numbers.release")
    errors = lifecycle.release_request_errors(reason, reason_text, acknowledge)
    if errors:
        raise ValidationFailed("; ".join(f"{e['field']}: {e['detail']}" for e in errors), errors)
    now = ctx.now()
    ensure_no_maintenance(ctx.session, now, "releasing numbers")
    n = repository.get_for_update(ctx, number_id)
    lifecycle.transition(n.status, Action.release, returned=n.returned_at is not None)
    blockers = release_blockers(ctx, n, detach_dependencies=detach_dependencies)
    if blockers:
        raise ReleaseBlocked(blockers)
    detached = []
    if detach_dependencies:
        detached = [{"id": a.id, "name": a.name, "kind": a.kind} for a in dependencies(ctx, n.id)]
        ctx.session.execute(delete(AutomationNumber).where(
            AutomationNumber.number_id == n.id,
            AutomationNumber.automation_id.in_([d["id"] for d in detached])))
    if n.provider_ref:
        # Cancels a pending order; the carrier keeps the number on hold for us.
        get_carrier(ctx.settings).release(ctx.session, n.provider_ref, now)
    changed = history.change(
        ctx, n.id, current=n.status, action=Action.release, reason=reason, event="number.release",
        before=snapshot(n), after=lambda: {
            **snapshot(n), "reason": reason, "reason_text": n.release_reason_text, "notes": n.release_notes,
            "cooldown_ends_at": n.cooldown_ends_at, "reclaim_deadline": n.reclaim_deadline,
            "previous_agent_id": n.previous_agent_id, "previous_pool_id": n.previous_pool_id,
            "detached": detached},
        values={
            "previous_agent_id": n.agent_id, "previous_pool_id": n.pool_id, "agent_id": None, "pool_id": None,
            "status_reason": None, "released_at": now, "released_by": ctx.actor, "release_reason": reason,
            "release_reason_text": (reason_text or "").strip() or None,
            "release_notes": (notes or "").strip() or None,
            "cooldown_ends_at": lifecycle.cooldown_ends_at(now, ctx.settings.cooldown_hours),
            "reclaim_deadline": lifecycle.reclaim_deadline(now, ctx.settings.reclaim_days)})
    if changed is None:  # the row is locked: only a bug gets here, and nothing was written
        raise InvalidState("The number changed while it was being released; try again.")
    ctx.session.flush()
    return n


def _eligibility(ctx: Ctx, n: PhoneNumber) -> Eligibility:
    holds = False
    if n.status == Status.released and n.provider_ref and n.returned_at is None:
        holds = get_carrier(ctx.settings).holds(ctx.session, n.provider_ref)
    billing = ctx.session.scalar(select(Account.billing_status).where(Account.id == ctx.account_id))
    return lifecycle.reactivation_eligibility(
        status=n.status, returned=n.returned_at is not None, now=ctx.now(),
        cooldown_end=n.cooldown_ends_at, deadline=n.reclaim_deadline, release_reason=n.release_reason,
        carrier_holds=holds, past_due=billing == BillingStatus.past_due)


def reactivation(ctx: Ctx, number_id: str) -> Eligibility:
    """Whether the number can be reactivated now, with each condition and its state."""
    ctx.require("read")
    return _eligibility(ctx, repository.get(ctx, number_id))


def _refuse(check: Check, e: Eligibility) -> None:
    if check.code == "in_cooldown":
        raise InCooldown(check.detail, cooldown_ends_at=rfc3339(e.cooldown_ends_at))
    if check.code == "reclaim_window_expired":
        raise ReclaimWindowExpired(check.detail, reclaim_deadline=rfc3339(e.reclaim_deadline))
    if check.code == "not_eligible":
        raise NotEligible(check.detail, reason=check.reason)
    raise InvalidState(check.detail)


def reactivate(ctx: Ctx, number_id: str, *, restore_assignment: bool = True) -> PhoneNumber:
    """Bring a released number back (``active``, or ``pending`` while the carrier
    provisions it again) and restore its previous assignment unless told not to."""
    ctx.require("numbers.reactivate")
    now = ctx.now()
    ensure_no_maintenance(ctx.session, now, "reactivating numbers")
    n = repository.get_for_update(ctx, number_id)
    e = _eligibility(ctx, n)
    failed = e.first_failure()
    if failed is not None:
        _refuse(failed, e)
    lifecycle.transition(n.status, Action.reactivate, returned=n.returned_at is not None)
    before = {**snapshot(n), "previous_agent_id": n.previous_agent_id, "previous_pool_id": n.previous_pool_id}
    assert n.provider_ref is not None  # eligibility required the carrier to hold it
    order = get_carrier(ctx.settings).reactivate(ctx.session, n.provider_ref, now)
    new_status = lifecycle.reactivated_status(needs_provisioning=order.ready_at is not None)
    restored, not_restored = _restore_assignment(ctx, n, restore_assignment)
    changed = history.change(
        ctx, n.id, current=n.status, action=Action.reactivate, to=new_status, reason="reactivated",
        event="number.reactivate", before=before, after=lambda: {
            **snapshot(n), "restore_assignment": restore_assignment, "assignment_restored": restored,
            "assignment_not_restored": not_restored, "provisioning_due_at": n.provisioning_due_at},
        values={
            "agent_id": restored["id"] if restored and restored["type"] == "agent" else None,
            "pool_id": restored["id"] if restored and restored["type"] == "pool" else None,
            "status_reason": None, "provisioning_due_at": order.ready_at, "provisioning_overdue_at": None,
            "activated_at": now if new_status == Status.active and n.activated_at is None else n.activated_at,
            "released_at": None, "released_by": None, "release_reason": None, "release_reason_text": None,
            "release_notes": None, "cooldown_ends_at": None, "reclaim_deadline": None,
            "previous_agent_id": None, "previous_pool_id": None})
    if changed is None:  # the row is locked: only a bug gets here, and nothing was written
        raise InvalidState("The number changed while it was being reactivated; try again.")
    ctx.session.flush()
    return n


def _restore_assignment(ctx: Ctx, n: PhoneNumber, wanted: bool) -> tuple[dict[str, str] | None, str | None]:
    """The assignment the release cleared that can come back; say why when it cannot."""
    if not wanted:
        if n.previous_agent_id or n.previous_pool_id:
            return None, "not requested"
        return None, None
    if n.previous_agent_id:
        if ctx.session.scalar(select(Agent.id).where(
                Agent.id == n.previous_agent_id, Agent.account_id == ctx.account_id)) is None:
            return None, f"agent {n.previous_agent_id} was deleted"
        return {"type": "agent", "id": n.previous_agent_id}, None
    if n.previous_pool_id:
        if ctx.session.scalar(select(Pool.id).where(
                Pool.id == n.previous_pool_id, Pool.account_id == ctx.account_id)) is None:
            return None, f"pool {n.previous_pool_id} was deleted"
        return {"type": "pool", "id": n.previous_pool_id}, None
    return None, None
