"""Call flows and automations that use numbers: while they do, a release is blocked."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, delete, exists, or_, select

from numberdesk.audit import service as audit
from numberdesk.auth.context import Ctx
from numberdesk.automations.models import Automation, AutomationNumber
from numberdesk.errors import InvalidState, NotFound, ValidationFailed
from numberdesk.kit.ids import new_id
from numberdesk.numbers import repository as numbers
from numberdesk.numbers.lifecycle import HELD

KINDS = ("call_flow", "automation")


def _get(ctx: Ctx, automation_id: str) -> Automation:
    a = ctx.session.scalar(select(Automation).where(
        Automation.id == automation_id, Automation.account_id == ctx.account_id))
    if a is None:
        raise NotFound(f"No automation {automation_id} in this account.")
    return a


def number_ids_of(ctx: Ctx, automation_ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {i: [] for i in automation_ids}
    if automation_ids:
        for aid, nid in ctx.session.execute(
                select(AutomationNumber.automation_id, AutomationNumber.number_id)
                .where(AutomationNumber.automation_id.in_(automation_ids))
                .order_by(AutomationNumber.number_id)):
            out[aid].append(nid)
    return out


def create(ctx: Ctx, name: str, kind: str, number_ids: list[str]) -> Automation:
    """Create a call flow or automation using the given numbers of this account."""
    ctx.require("automations.write")
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationFailed.field("name", "must be 1 to 200 characters")
    if kind not in KINDS:
        raise ValidationFailed.field("kind", f"must be one of {', '.join(KINDS)}")
    wanted = list(dict.fromkeys(number_ids))
    found = numbers.statuses(ctx, wanted)
    missing = [i for i in wanted if i not in found]
    if missing:
        raise NotFound(f"No number {', '.join(missing)} in this account.")
    released = [i for i in wanted if found[i] not in HELD]
    if released:
        raise InvalidState(f"Released numbers cannot be used by a {kind.replace('_', ' ')}: "
                           f"{', '.join(released)}.", numbers=released)
    a = Automation(id=new_id("auto"), account_id=ctx.account_id, name=name, kind=kind, created_at=ctx.now())
    ctx.session.add(a)
    ctx.session.flush()
    for nid in wanted:
        ctx.session.add(AutomationNumber(automation_id=a.id, number_id=nid))
    audit.record(ctx, "automation.create", "automation", a.id, None,
                 {"name": name, "kind": kind, "number_ids": wanted})
    ctx.session.flush()
    return a


def list_automations(ctx: Ctx, *, number_id: str | None, limit: int,
                     after: tuple[dt.datetime, str] | None) -> list[Automation]:
    """A page of the account's automations, newest first (keyset)."""
    ctx.require("read")
    q = select(Automation).where(Automation.account_id == ctx.account_id)
    if number_id:
        q = q.where(exists().where(AutomationNumber.automation_id == Automation.id,
                                   AutomationNumber.number_id == number_id))
    if after:
        q = q.where(or_(Automation.created_at < after[0],
                        and_(Automation.created_at == after[0], Automation.id < after[1])))
    return list(ctx.session.scalars(
        q.order_by(Automation.created_at.desc(), Automation.id.desc()).limit(limit + 1)))


def delete_automation(ctx: Ctx, automation_id: str) -> None:
    """Delete an automation; the numbers it used are free to be released."""
    ctx.require("automations.write")
    a = _get(ctx, automation_id)
    numbers = number_ids_of(ctx, [a.id])[a.id]
    audit.record(ctx, "automation.delete", "automation", a.id,
                 {"name": a.name, "kind": a.kind, "number_ids": numbers}, None)
    ctx.session.execute(delete(AutomationNumber).where(AutomationNumber.automation_id == a.id))
    ctx.session.delete(a)
