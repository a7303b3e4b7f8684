"""Analytics in the dashboard: the account's call charts and CSV exports, and each number's
calls panel with its "Test call" (over the same services as ``GET /v1/analytics``)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from numberdesk.agents import service as agents
from numberdesk.analytics import service as analytics
from numberdesk.auth.context import Ctx
from numberdesk.calls import export
from numberdesk.calls import service as calls
from numberdesk.dashboard.common import (
    DashReadCtx,
    app_state,
    csrf_guard,
    error_lines,
    is_htmx,
    render,
)
from numberdesk.errors import NumberdeskError, ValidationFailed
from numberdesk.numbers import service as numbers
from numberdesk.routing import decide as routing

router = APIRouter(dependencies=[Depends(csrf_guard)], include_in_schema=False)

PRESETS = {"7d": ("Last 7 days", 7), "30d": ("Last 30 days", 30), "90d": ("Last 90 days", 90)}
GRANULARITIES = {"hour": "Hour", "day": "Day", "week": "Week"}
Text = Annotated[str | None, Query(max_length=40)]
PANEL_DAYS = 30


def _choose(ctx: Ctx, preset: str | None, start: str | None, through: str | None,
            granularity: str | None) -> tuple[dict[str, str], list[str]]:
    """The period the page shows: a preset (default 30 days) or a custom range of local dates,
    both ending with the day named (inclusive, as a person reads "through")."""
    errors: list[str] = []
    g = granularity if granularity in GRANULARITIES else "day"
    if preset == "custom" or (preset is None and (start or through)):
        try:
            first, last = analytics.local_days(ctx, first=start, through=through)
            return {"preset": "custom", "from": first.isoformat(), "through": last.isoformat(), "granularity": g,
                    "to": (last + dt.timedelta(days=1)).isoformat()}, errors
        except ValueError:
            errors.append("Pick a start date on or before the end date; showing the last 30 days.")
            preset = "30d"
    key = preset if preset in PRESETS else "30d"
    first, last = analytics.local_days(ctx, days=PRESETS[key][1])
    return {"preset": key, "from": first.isoformat(), "through": last.isoformat(), "granularity": g,
            "to": (last + dt.timedelta(days=1)).isoformat()}, errors


def _label(start: dt.datetime, granularity: str) -> str:
    if granularity == "hour":
        return start.strftime("%b %-d %H:%M")
    if granularity == "week":
        return start.strftime("Week of %b %-d")
    return start.strftime("%a %b %-d")


def chart_data(result: dict[str, Any]) -> dict[str, Any]:
    """What the charts draw: labels in local time, answered/missed stacks, missed rate, hours."""
    labels, answered, missed, rate = [], [], [], []
    for s in result["series"]:
        labels.append(_label(dt.datetime.fromisoformat(s["local_start"]), result["granularity"]))
        answered.append(s["answered"])
        missed.append(s["missed"])
        rate.append(round(100 * s["missed"] / s["calls"], 1) if s["calls"] else None)
    return {"labels": labels, "answered": answered, "missed": missed, "missed_rate": rate,
            "hours": [h["calls"] for h in result["hour_of_day"]], "busy_hour": result["busy_hour"]}


def _names(ctx: Ctx) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """The account's numbers (id, E.164, name) and agents (id, name) for the pickers."""
    return numbers.choices(ctx), agents.choices(ctx)


def _query(chosen: dict[str, str], number_id: str | None, agent_id: str | None, **extra: str) -> str:
    from urllib.parse import urlencode

    params = {"from": chosen["from"], "to": chosen["to"], "granularity": chosen["granularity"]}
    if number_id:
        params["number_id"] = number_id
    if agent_id:
        params["agent_id"] = agent_id
    params.update(extra)
    return urlencode(params)


@router.get("/analytics", response_class=HTMLResponse)
def analytics_page(request: Request, ctx: DashReadCtx, preset: Text = None, from_: Annotated[
        str | None, Query(alias="from", max_length=40)] = None, through: Text = None, granularity: Text = None,
        number_id: Text = None, agent_id: Text = None) -> Response:
    """Call volume over time, the hour of day with the busy hour marked, missed calls, per number and agent."""
    chosen, errors = _choose(ctx, preset, from_, through, granularity)
    number_id, agent_id = number_id or None, agent_id or None
    try:
        p = analytics.period(ctx, chosen["from"], chosen["to"], chosen["granularity"])
    except ValidationFailed as err:
        errors += error_lines(err)
        chosen["granularity"] = "day"
        p = analytics.period(ctx, chosen["from"], chosen["to"], "day")
    try:
        result = analytics.analytics(ctx, p, number_id=number_id, agent_id=agent_id)
    except NumberdeskError as err:
        return render(request, ctx, "error.html", status_code=err.status, title="Analytics", active="analytics",
                      lines=error_lines(err, role=ctx.role))
    by_number = by_agent = None
    if not number_id and not agent_id:
        by_number = analytics.breakdown(ctx, p, "n")[:15]
        by_agent = analytics.breakdown(ctx, p, "g")[:15]
    nums, agents = _names(ctx)
    scope = None
    if number_id:
        scope = next((f"{name} ({e164})" for i, e164, name in nums if i == number_id), number_id)
    elif agent_id:
        scope = next((name for i, name in agents if i == agent_id), agent_id)
    return render(request, ctx, "analytics/analytics.html", active="analytics", result=result,
                  chart=chart_data(result), chosen=chosen, presets=PRESETS, granularities=GRANULARITIES,
                  number_id=number_id, agent_id=agent_id, numbers=nums, agents=agents, scope=scope,
                  by_number=by_number, by_agent=by_agent, errors=errors,
                  query=_query(chosen, number_id, agent_id))


@router.get("/analytics.csv")
def analytics_csv(request: Request, ctx: DashReadCtx, from_: Annotated[str | None, Query(alias="from", max_length=40)]
                  = None, to: Text = None, granularity: Text = None, number_id: Text = None,
                  agent_id: Text = None) -> Response:
    """The page's series as CSV (the same file as ``GET /v1/analytics.csv``)."""
    try:
        p = analytics.period(ctx, from_, to, granularity)
        result = analytics.analytics(ctx, p, number_id=number_id or None, agent_id=agent_id or None)
    except NumberdeskError as err:
        return render(request, ctx, "error.html", status_code=err.status, title="Analytics", active="analytics",
                      lines=error_lines(err, role=ctx.role))
    buf = io.StringIO()
    csv.writer(buf).writerows(analytics.series_csv_rows(result))
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="analytics-{p.granularity}.csv"'})


@router.get("/analytics/calls.csv")
def calls_csv(request: Request, ctx: DashReadCtx, from_: Annotated[str | None, Query(alias="from", max_length=40)]
              = None, to: Text = None, number_id: Text = None, agent_id: Text = None,
              granularity: Text = None) -> Response:
    """The period's call records as CSV (the same columns as ``GET /v1/calls.csv``)."""
    try:
        f = calls.call_filter(ctx, number_id=number_id or None, agent_id=agent_id or None, start=from_, end=to)
        if f.number_id:
            calls.check_number(ctx, f.number_id)
    except NumberdeskError as err:
        return render(request, ctx, "error.html", status_code=err.status, title="Analytics", active="analytics",
                      lines=error_lines(err, role=ctx.role))
    st = app_state(request)
    who = (ctx.account_id, ctx.actor, ctx.role)

    return export.calls_csv(st, *who, f)


@router.get("/analytics/numbers/{number_id}", response_class=HTMLResponse)
def number_panel(request: Request, number_id: str, ctx: DashReadCtx) -> Response:
    """A number's last 30 days of calls (the number page's panel; a page of its own without HTMX)."""
    try:
        n = numbers.get(ctx, number_id)
        first, today = analytics.local_days(ctx, days=PANEL_DAYS)
        p = analytics.period(ctx, first.isoformat(), (today + dt.timedelta(days=1)).isoformat(), "day")
        result = analytics.analytics(ctx, p, number_id=number_id)
    except NumberdeskError as err:
        return render(request, ctx, "error.html", status_code=err.status, title="Calls", active="numbers",
                      lines=error_lines(err, role=ctx.role))
    name = "analytics/_number_panel.html" if is_htmx(request) else "analytics/number_panel.html"
    return render(request, ctx, name, active="numbers", n=n, result=result, chart=chart_data(result),
                  days=PANEL_DAYS, query=f"from={first.isoformat()}&through={today.isoformat()}&number_id={n.id}")


@router.post("/analytics/numbers/{number_id}/test-call", response_class=HTMLResponse)
def number_test_call(request: Request, number_id: str, ctx: DashReadCtx,
                     from_: Annotated[str | None, Form(alias="from", max_length=40)] = None) -> Response:
    """Run the routing path for the number without a carrier and show what a caller would reach."""
    try:
        outcome = routing.test_call(ctx, number_id, from_ or None)
        errors: list[str] = []
    except NumberdeskError as err:
        outcome, errors = None, error_lines(err, role=ctx.role)
    name = "analytics/_test_call.html" if is_htmx(request) else "analytics/test_call.html"
    status = 200 if outcome is not None else 422
    return render(request, ctx, name, status_code=status, active="numbers", outcome=outcome, errors=errors,
                  number_id=number_id)
