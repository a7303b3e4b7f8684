"""Bulk actions over many numbers, with a result per number.

Each number is handled in its own savepoint: a failure on one number rolls back
only that number's change, never the others'. The rules are the single-number
services' own, so a bulk action can do nothing a single action could not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from numberdesk.auth.context import Ctx
from numberdesk.errors import NumberdeskError, ValidationFailed
from numberdesk.numbers import release, service

MAX_BULK = 500
ACTIONS = ("assign", "unassign", "tag", "untag", "release")
# The permission of each action, checked once for the request: a role that may not
# act at all is refused (403), not told "forbidden" once per number.
PERMISSION = {"assign": "numbers.assign", "unassign": "numbers.assign", "tag": "numbers.edit",
              "untag": "numbers.edit", "release": "numbers.release"}


@dataclass
class BulkResult:
    number_id: str
    ok: bool
    code: str | None = None
    detail: str | None = None
    blockers: list[dict[str, Any]] | None = None


def run_bulk(ctx: Ctx, action: str, number_ids: list[str], params: dict[str, Any]) -> list[BulkResult]:
    if action not in ACTIONS:
        raise ValidationFailed.field("action", f"must be one of {', '.join(ACTIONS)}")
    ctx.require(PERMISSION[action])
    ids = list(dict.fromkeys(number_ids))  # keep order, drop repeats
    if not ids or len(ids) > MAX_BULK:
        raise ValidationFailed.field("number_ids", f"give 1 to {MAX_BULK} number ids")
    op = _operation(ctx, action, params)
    results = []
    for number_id in ids:
        try:
            with ctx.session.begin_nested():
                op(number_id)
            results.append(BulkResult(number_id, True))
        except NumberdeskError as e:
            results.append(BulkResult(number_id, False, e.code, e.detail, e.extra.get("blockers")))
    return results


def _operation(ctx: Ctx, action: str, p: dict[str, Any]) -> Callable[[str], object]:
    if action == "assign":
        if not p.get("agent_id") and not p.get("pool_id"):
            raise ValidationFailed.field("agent_id", "assign needs agent_id or pool_id")
        return lambda nid: service.assign(ctx, nid, agent_id=p.get("agent_id"), pool_id=p.get("pool_id"))
    if action == "unassign":
        return lambda nid: service.unassign(ctx, nid)
    if action in ("tag", "untag"):
        tags = [t.strip().lower() for t in p.get("tags") or [] if t.strip()]
        if not tags:
            raise ValidationFailed.field("tags", f"{action} needs at least one tag")

        def retag(nid: str) -> object:
            current = service.tags_of(ctx, [nid]).get(nid, [])
            new = current + [t for t in tags if t not in current] if action == "tag" else [
                t for t in current if t not in tags]
            return service.update_number(ctx, nid, {"tags": new})

        return retag
    return lambda nid: release.release(
        ctx, nid, reason=p.get("reason") or "", reason_text=p.get("reason_text"), notes=p.get("notes"),
        acknowledge=bool(p.get("acknowledge")), detach_dependencies=bool(p.get("detach_dependencies")))
