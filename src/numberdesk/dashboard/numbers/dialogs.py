"""The number dialogs: Assign, Release (with what blocks it), the released number's details
and countdowns, Reactivate."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from numberdesk.accounts import service as accounts
from numberdesk.agents import service as agents
from numberdesk.auth.context import Ctx
from numberdesk.dashboard.common import (
    DashCtx,
    DashReadCtx,
    csrf_guard,
    error_lines,
    referer_path,
    render,
)
from numberdesk.dashboard.numbers.inventory import (
    REASONS,
    dialog,
    done,
    not_found,
    number,
    rows_for,
)
from numberdesk.errors import NotFound, NumberdeskError
from numberdesk.numbers import lifecycle, service
from numberdesk.numbers import release as releases
from numberdesk.numbers.lifecycle import Status
from numberdesk.numbers.models import PhoneNumber

router = APIRouter(dependencies=[Depends(csrf_guard)], include_in_schema=False)


# -- Assign -----------------------------------------------------------------------------
@router.get("/numbers/{number_id}/assign", response_class=HTMLResponse)
def assign_dialog(request: Request, number_id: str, ctx: DashReadCtx) -> Response:
    try:
        n = number(ctx, number_id)
    except NotFound as err:
        return not_found(request, ctx, err)
    return dialog(request, ctx, "numbers/assign.html", title="Assign number", row=rows_for(ctx, [n])[0],
                   agents=agents.list_agents(ctx, limit=500, after=None)[:500], errors=[])


@router.post("/numbers/{number_id}/assign", response_class=HTMLResponse)
def assign(request: Request, number_id: str, ctx: DashCtx,
           agent_id: Annotated[str, Form(max_length=40)] = "") -> Response:
    """Assign to an agent, or (empty choice) unassign."""
    try:
        if agent_id:
            n = service.assign(ctx, number_id, agent_id=agent_id)
            message = f"Assigned {n.friendly_name}."
        else:
            n = service.unassign(ctx, number_id)
            message = f"{n.friendly_name} is no longer assigned."
    except NumberdeskError as err:
        ctx.session.rollback()
        try:
            row = rows_for(ctx, [number(ctx, number_id)])[0]
        except NotFound:
            return not_found(request, ctx, err)
        return dialog(request, ctx, "numbers/assign.html", title="Assign number", row=row,
                       agents=agents.list_agents(ctx, limit=500, after=None)[:500],
                       errors=error_lines(err, now=ctx.now(), role=ctx.role), status_code=err.status)
    return done(request, ctx, message, back=_back(request))


def _back(request: Request) -> str:
    """Where a form without JavaScript returns to: the page it came from, if it is ours
    (never a dialog's own page)."""
    back = referer_path(request)
    return "/" if urlsplit(back).path.endswith(("/assign", "/release", "/reactivate")) else back


# -- Release ------------------------------------------------------------------------------
def _release_context(ctx: Ctx, n: PhoneNumber, **kw: Any) -> dict[str, Any]:
    now = ctx.now()
    return {
        "row": rows_for(ctx, [n])[0], "reasons": REASONS,
        "cooldown_hours": ctx.settings.cooldown_hours, "reclaim_days": ctx.settings.reclaim_days,
        "cooldown_end": lifecycle.cooldown_ends_at(now, ctx.settings.cooldown_hours),
        "deadline": lifecycle.reclaim_deadline(now, ctx.settings.reclaim_days),
        "blockers": releases.release_blockers(ctx, n) if n.status != Status.released else [],
        "errors": [], "form": {}, **kw,
    }


@router.get("/numbers/{number_id}/release", response_class=HTMLResponse)
def release_dialog(request: Request, number_id: str, ctx: DashReadCtx) -> Response:
    """Reason, notes, acknowledgement, and the consequences in one sentence."""
    try:
        n = number(ctx, number_id)
    except NotFound as err:
        return not_found(request, ctx, err)
    return dialog(request, ctx, "numbers/release.html", title="Release number", **_release_context(ctx, n))


@router.post("/numbers/{number_id}/release", response_class=HTMLResponse)
def release(request: Request, number_id: str, ctx: DashCtx,
            reason: Annotated[str, Form(max_length=32)] = "",
            reason_text: Annotated[str, Form(max_length=500)] = "",
            notes: Annotated[str, Form(max_length=5000)] = "",
            acknowledge: Annotated[str, Form(max_length=10)] = "",
            detach_dependencies: Annotated[str, Form(max_length=10)] = "") -> Response:
    try:
        n = releases.release(ctx, number_id, reason=reason, reason_text=reason_text or None, notes=notes or None,
                             acknowledge=acknowledge == "yes", detach_dependencies=detach_dependencies == "yes")
    except NumberdeskError as err:
        ctx.session.rollback()
        try:
            current = number(ctx, number_id)
        except NotFound:
            return not_found(request, ctx, err)
        lines = error_lines(err, now=ctx.now(), role=ctx.role)
        form = {"reason": reason, "reason_text": reason_text, "notes": notes,
                "detach_dependencies": detach_dependencies == "yes"}
        return dialog(request, ctx, "numbers/release.html", title="Release number", status_code=err.status,
                       **_release_context(ctx, current, errors=lines, form=form))
    return done(request, ctx, f"Released {n.friendly_name}. You can reactivate it after the cooldown, "
                               "until the reclaim deadline.", back=_back(request))


# -- Released numbers: details, countdowns, reactivation -------------------------------------
def release_details_context(ctx: Ctx, n: PhoneNumber) -> dict[str, Any]:
    """What the release details, the reactivate dialog and the number page show of a released number."""
    eligibility = releases.reactivation(ctx, n.id)
    expired = lifecycle.window_ended(ctx.now(), n.reclaim_deadline, n.returned_at is not None)
    similar = service.similar_available(ctx, n.phone_number) if expired else []
    return {"row": rows_for(ctx, [n])[0], "eligibility": eligibility, "expired": expired, "similar": similar,
            "cooling": n.cooldown_ends_at is not None and lifecycle.in_cooldown(ctx.now(), n.cooldown_ends_at),
            "reasons": REASONS, "previous": _previous_assignee(ctx, n),
            "actors": accounts.actor_labels(ctx, [n.released_by or ""])}


def _previous_assignee(ctx: Ctx, n: PhoneNumber) -> str | None:
    if n.previous_agent_id:
        try:
            return agents.get(ctx, n.previous_agent_id).name
        except NotFound:
            return None
    return n.previous_pool_id


@router.get("/numbers/{number_id}/release-details", response_class=HTMLResponse)
def release_details(request: Request, number_id: str, ctx: DashReadCtx) -> Response:
    """The chevron's content: release details, eligibility checklist, countdowns."""
    try:
        n = number(ctx, number_id)
    except NotFound as err:
        return not_found(request, ctx, err)
    if n.status != Status.released:
        return render(request, ctx, "numbers/release_details.html", row=rows_for(ctx, [n])[0], not_released=True)
    return render(request, ctx, "numbers/release_details.html", not_released=False, **release_details_context(ctx, n))


@router.get("/numbers/{number_id}/reactivate", response_class=HTMLResponse)
def reactivate_dialog(request: Request, number_id: str, ctx: DashReadCtx) -> Response:
    try:
        n = number(ctx, number_id)
    except NotFound as err:
        return not_found(request, ctx, err)
    if n.status != Status.released:
        return dialog(request, ctx, "numbers/reactivate.html", title="Reactivate number",
                       row=rows_for(ctx, [n])[0], eligibility=None, previous=None, errors=[])
    return dialog(request, ctx, "numbers/reactivate.html", title="Reactivate number", errors=[],
                   **release_details_context(ctx, n))


@router.post("/numbers/{number_id}/reactivate", response_class=HTMLResponse)
def reactivate(request: Request, number_id: str, ctx: DashCtx,
               restore_assignment: Annotated[str, Form(max_length=10)] = "") -> Response:
    """Reactivate: refused with the reason (and the time, during the cooldown)."""
    try:
        n = releases.reactivate(ctx, number_id, restore_assignment=restore_assignment == "yes")
    except NumberdeskError as err:
        ctx.session.rollback()
        try:
            current = number(ctx, number_id)
        except NotFound:
            return not_found(request, ctx, err)
        lines = error_lines(err, now=ctx.now(), role=ctx.role)
        details = release_details_context(ctx, current) if current.status == Status.released else {
            "row": rows_for(ctx, [current])[0], "eligibility": None, "previous": None}
        return dialog(request, ctx, "numbers/reactivate.html", title="Reactivate number", errors=lines,
                       status_code=err.status, **details)
    return done(request, ctx, f"Reactivated {n.friendly_name}: it is {n.status} again.", back=_back(request))


