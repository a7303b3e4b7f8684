"""What holds a number ``inactive``, and how it comes back by itself.

Two causes may hold a number at once: the account is past due (``billing``) and
the carrier reports a configuration problem (``configuration``). Each cause is a
row in ``inactive_causes``; the number returns to ``active`` only when its last
cause is resolved. ``status_reason`` shows one cause, billing first (the account
must settle its balance before anything else matters).

History: holding an active number writes ``active → inactive`` (reason = the
cause); a second cause while inactive writes ``inactive → inactive`` (reason = the
new cause); resolving one of two causes writes ``inactive → inactive`` (reason
``<cause>_resolved``); resolving the last writes ``inactive → active``
(``<cause>_resolved``). Each change also writes an audit row (``numbers.history``).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from numberdesk.auth.context import Ctx
from numberdesk.kit.sql import insert_ignore
from numberdesk.numbers import history, lifecycle
from numberdesk.numbers.lifecycle import Action, InactiveReason, Status
from numberdesk.numbers.models import InactiveCause, PhoneNumber

# The cause ``status_reason`` shows when several hold a number.
CAUSE_ORDER = (InactiveReason.billing, InactiveReason.configuration)


class Outcome(StrEnum):
    none = "none"          # nothing changed
    cause = "cause"        # the set of causes changed; the status did not
    status = "status"      # the number turned inactive or active


def shown_reason(causes: Iterable[str]) -> str | None:
    present = set(causes)
    return next((c.value for c in CAUSE_ORDER if c in present), None)


def causes_of(session: Session, account_id: str, number_ids: list[str]) -> dict[str, list[str]]:
    """The causes holding each number, in ``CAUSE_ORDER``; [] for a number not held."""
    out: dict[str, list[str]] = {i: [] for i in number_ids}
    if number_ids:
        rows = session.execute(
            select(InactiveCause.number_id, InactiveCause.cause)
            .where(InactiveCause.account_id == account_id, InactiveCause.number_id.in_(number_ids)))
        for nid, cause in rows:
            out[nid].append(cause)
    order = [c.value for c in CAUSE_ORDER]
    return {k: sorted(v, key=order.index) for k, v in out.items()}


def _locked(ctx: Ctx, number_id: str):  # type: ignore[no-untyped-def]
    return ctx.session.execute(
        select(PhoneNumber.status, PhoneNumber.status_reason, PhoneNumber.returned_at)
        .where(PhoneNumber.id == number_id, PhoneNumber.account_id == ctx.account_id)
        .with_for_update()).one_or_none()


def _remaining(ctx: Ctx, number_id: str) -> list[str]:
    return causes_of(ctx.session, ctx.account_id, [number_id])[number_id]


def _add_cause(ctx: Ctx, number_id: str, cause: InactiveReason) -> int:
    return insert_ignore(ctx.session, InactiveCause.__table__,
                         {"number_id": number_id, "cause": cause.value, "account_id": ctx.account_id,
                          "since": ctx.now()})


def hold(ctx: Ctx, number_id: str, cause: InactiveReason) -> Outcome:
    """Hold the number inactive for ``cause``; an active number turns inactive.

    A pending number has nothing to stop yet (the worker holds it once it turns
    active); a released one is not in service anyway.
    """
    row = _locked(ctx, number_id)
    if row is None or row.returned_at is not None or not lifecycle.allowed(row.status, Action.deactivate):
        return Outcome.none
    before = {"status": row.status, "status_reason": row.status_reason}
    if row.status == Status.active:
        new = history.change(
            ctx, number_id, current=row.status, action=Action.deactivate, reason=cause.value,
            event="number.deactivate", before=before,
            after={"status": Status.inactive.value, "status_reason": cause.value, "causes": [cause.value]},
            values={"status_reason": cause.value})
        if new is None:
            return Outcome.none  # Another worker changed it first; the next pass looks again.
        # Rows left from before a release are stale: an active number has no causes.
        ctx.session.execute(delete(InactiveCause).where(InactiveCause.number_id == number_id))
        _add_cause(ctx, number_id, cause)
        return Outcome.status
    if row.status != Status.inactive or _add_cause(ctx, number_id, cause) != 1:
        return Outcome.none
    causes = _remaining(ctx, number_id)
    reason = shown_reason(causes)
    history.change(ctx, number_id, current=row.status, action=Action.deactivate, reason=cause.value,
                   event="number.inactive_causes", before=before,
                   after={"status": row.status, "status_reason": reason, "causes": causes},
                   values={"status_reason": reason})
    return Outcome.cause


def release_hold(ctx: Ctx, number_id: str, cause: InactiveReason) -> Outcome:
    """Resolve ``cause``; the number returns to ``active`` when no other cause holds it."""
    row = _locked(ctx, number_id)
    if row is None:
        return Outcome.none
    deleted = ctx.session.execute(
        delete(InactiveCause).where(InactiveCause.number_id == number_id,
                                    InactiveCause.cause == cause.value)).rowcount
    if row.status != Status.inactive or row.returned_at is not None:
        return Outcome.none  # a stale row of a number no longer held inactive
    causes = _remaining(ctx, number_id)
    if not deleted and not (row.status_reason == cause.value and not causes):
        return Outcome.none
    before = {"status": row.status, "status_reason": row.status_reason}
    resolved = f"{cause.value}_resolved"
    if not causes:
        new = history.change(ctx, number_id, current=row.status, action=Action.restore, reason=resolved,
                             event="number.restore", before=before,
                             after={"status": Status.active.value, "status_reason": None, "causes": []},
                             values={"status_reason": None})
        return Outcome.none if new is None else Outcome.status
    reason = shown_reason(causes)
    history.change(ctx, number_id, current=row.status, action=None, reason=resolved,
                   event="number.inactive_causes", before=before,
                   after={"status": row.status, "status_reason": reason, "causes": causes},
                   values={"status_reason": reason})
    return Outcome.cause
