"""Inventory audit and naming conventions: what in the inventory needs a person.

Findings per number: ``unassigned`` (held but routed nowhere), ``idle`` (no call in
N days while routable), ``inactive``, ``provisioning_overdue``, ``reclaim_closing``
(released, window ends within 48 h), ``naming`` (friendly name breaks the
account's template). The cost of idle numbers is what they keep billing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select

from numberdesk.accounts.models import Account
from numberdesk.auth.context import Ctx
from numberdesk.calls.models import Call
from numberdesk.errors import ValidationFailed
from numberdesk.numbers import lifecycle, repository
from numberdesk.numbers.lifecycle import Status
from numberdesk.numbers.models import PhoneNumber
from numberdesk.numbers.naming import template_regex


@dataclass
class AuditItem:
    number: PhoneNumber
    findings: list[str]
    last_call_at: dt.datetime | None


@dataclass
class InventoryAudit:
    generated_at: dt.datetime
    idle_days: int
    items: list[AuditItem]
    counts: dict[str, int] = field(default_factory=dict)
    idle_monthly_cost: dict[str, int] = field(default_factory=dict)  # currency -> minor units


def run_audit(ctx: Ctx, *, idle_days: int = 30) -> InventoryAudit:
    """Audit every number the account still holds (returned numbers are history)."""
    ctx.require("read")
    if not 1 <= idle_days <= 365:
        raise ValidationFailed.field("idle_days", "must be between 1 and 365")
    now = ctx.now()
    account = ctx.session.get(Account, ctx.account_id)
    naming = template_regex(account.naming_template) if account and account.naming_template else None
    last_call = (
        select(Call.number_id, func.max(Call.started_at).label("last"))
        .where(Call.account_id == ctx.account_id).group_by(Call.number_id).subquery())
    rows = ctx.session.execute(
        select(PhoneNumber, last_call.c.last)
        .outerjoin(last_call, last_call.c.number_id == PhoneNumber.id)
        .where(PhoneNumber.account_id == ctx.account_id, PhoneNumber.returned_at.is_(None))
        .order_by(PhoneNumber.phone_number)).all()
    idle_since = now - dt.timedelta(days=idle_days)
    audit = InventoryAudit(generated_at=now, idle_days=idle_days, items=[])
    for code in ("unassigned", "idle", "inactive", "provisioning_overdue", "reclaim_closing", "naming"):
        audit.counts[code] = 0
    for n, last in rows:
        findings = []
        held = n.status in lifecycle.HELD
        if held and n.agent_id is None and n.pool_id is None:
            findings.append("unassigned")
        # Idle: routable for the whole period and no call in it.
        if (n.status == Status.active and (n.activated_at or n.purchased_at) <= idle_since
                and (last is None or last < idle_since)):
            findings.append("idle")
        if n.status == Status.inactive:
            findings.append("inactive")
        if lifecycle.provisioning_overdue(n.status, n.purchased_at, now, ctx.settings.provisioning_overdue_hours):
            findings.append("provisioning_overdue")
        if n.status == Status.released and lifecycle.closing_soon(now, n.reclaim_deadline):
            findings.append("reclaim_closing")
        if naming is not None and held and not naming.match(n.friendly_name):
            findings.append("naming")
        for f in findings:
            audit.counts[f] += 1
        if "idle" in findings:
            audit.idle_monthly_cost[n.currency] = audit.idle_monthly_cost.get(n.currency, 0) + n.monthly_price_minor
        if findings:
            audit.items.append(AuditItem(n, findings, last))
    return audit


def naming_violations(ctx: Ctx) -> tuple[str | None, list[PhoneNumber]]:
    """The account's template and the held numbers whose friendly name breaks it."""
    ctx.require("read")
    account = ctx.session.get(Account, ctx.account_id)
    if account is None or not account.naming_template:
        return None, []
    rx = template_regex(account.naming_template)
    return account.naming_template, [n for n in repository.held(ctx) if not rx.match(n.friendly_name)]
