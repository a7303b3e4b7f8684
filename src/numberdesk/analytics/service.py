"""Call analytics in the account's time zone: volume, answered and missed calls, average
duration (answered calls only), busy hour — for the account, a number or an agent.

Reads the 15-minute rollups (``call_rollups``), so a 30-day query reads at most
2,880 rows whatever the number of calls, and converts each bucket to local time.
The raw call records are read instead for the partial quarter hours at the ends
of an unaligned period, for a number and agent together, and for a time zone
whose offset is not a whole number of quarter hours (none in use today; some
historical local mean times).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from numberdesk.accounts.service import get_account
from numberdesk.agents.models import Agent
from numberdesk.analytics import periods
from numberdesk.analytics.periods import Granularity
from numberdesk.auth.context import Ctx
from numberdesk.calls.models import BUCKET_SECONDS, Call, CallRollup
from numberdesk.calls.service import check_number
from numberdesk.errors import NotFound, ValidationFailed
from numberdesk.kit.times import rfc3339
from numberdesk.numbers import repository as numbers

MAX_BUCKETS = 10_000
MAX_SPAN = dt.timedelta(days=800)
DEFAULT_SPAN = dt.timedelta(days=30)
UTC = dt.UTC


class _NeedRaw(Exception):
    """The rollups cannot answer exactly (a zone offset that is not whole quarter hours)."""


@dataclass
class Period:
    start: dt.datetime
    end: dt.datetime
    granularity: Granularity
    tz: dt.tzinfo
    tz_name: str


def period(ctx: Ctx, start: str | None, end: str | None, granularity: str | None) -> Period:
    """Parse ``from``/``to`` (dates are local midnights; ``to`` is exclusive) in the account's zone."""
    account = get_account(ctx)
    tz = periods.zone(account.timezone)
    g = granularity or "day"
    if g not in ("hour", "day", "week"):
        raise ValidationFailed.field("granularity", "must be hour, day or week")
    end_t = periods.parse_bound(end, tz, "to") if end else ctx.now()
    start_t = periods.parse_bound(start, tz, "from") if start else end_t - DEFAULT_SPAN
    if start_t >= end_t:
        raise ValidationFailed.field("to", "must be after from")
    if end_t - start_t > MAX_SPAN:
        raise ValidationFailed.field("from", f"the period may span at most {MAX_SPAN.days} days")
    if periods.bucket_count_estimate(start_t, end_t, g) > MAX_BUCKETS:  # type: ignore[arg-type]
        raise ValidationFailed.field("granularity", f"the period would have more than {MAX_BUCKETS} "
                                                    f"{g}s; choose a coarser granularity")
    return Period(start_t, end_t, g, tz, account.timezone)  # type: ignore[arg-type]


def local_days(ctx: Ctx, *, first: str | None = None, through: str | None = None,
               days: int = DEFAULT_SPAN.days) -> tuple[dt.date, dt.date]:
    """A range of whole local days in the account's zone, ``through`` (default: today) included:
    from ``first``, or the last ``days`` days. ``ValueError`` for a date that is not one, or a
    range that ends before it starts."""
    today = ctx.now().astimezone(periods.zone(get_account(ctx).timezone)).date()
    last = dt.date.fromisoformat(through) if through else today
    start = dt.date.fromisoformat(first) if first else today - dt.timedelta(days=days - 1)
    if start > last:
        raise ValueError("the range ends before it starts")
    return start, last


def _check_agent(ctx: Ctx, agent_id: str) -> None:
    known = ctx.session.scalar(select(Agent.id).where(Agent.id == agent_id, Agent.account_id == ctx.account_id))
    if known is None:
        # An agent deleted since keeps its history.
        known = ctx.session.scalar(select(Call.id).where(Call.account_id == ctx.account_id,
                                                         Call.agent_id == agent_id).limit(1))
    if known is None:
        raise NotFound(f"No agent {agent_id} in this account.")


class _Acc:
    """Accumulates calls into local buckets and the 24 local hours of the day."""

    def __init__(self, p: Period) -> None:
        self.p = p
        self.key = periods.keyer(p.granularity, p.tz)
        self.series: dict[dt.datetime, list[int]] = {}
        self.hours = [0] * 24

    def add(self, t: dt.datetime, calls: int, answered: int, dur: int, *, check_offset: bool) -> None:
        local = t.astimezone(self.p.tz)
        if check_offset:
            off = local.utcoffset()
            if off is not None and off.total_seconds() % BUCKET_SECONDS:
                raise _NeedRaw
        k = self.key(t)
        v = self.series.get(k)
        if v is None:
            self.series[k] = [calls, answered, dur]
        else:
            v[0] += calls
            v[1] += answered
            v[2] += dur
        self.hours[local.hour] += calls


def _raw(ctx: Ctx, acc: _Acc, start: dt.datetime, end: dt.datetime, number_id: str | None,
         agent_id: str | None) -> None:
    if start >= end:
        return
    q = select(Call.started_at, Call.status, Call.duration_seconds).where(
        Call.account_id == ctx.account_id, Call.started_at >= start, Call.started_at < end)
    if number_id:
        q = q.where(Call.number_id == number_id)
    if agent_id:
        q = q.where(Call.agent_id == agent_id)
    for started, status, dur in ctx.session.execute(q):
        answered = status == "completed"
        acc.add(started, 1, int(answered), dur if answered else 0, check_offset=False)


def _rollups(ctx: Ctx, acc: _Acc, start: dt.datetime, end: dt.datetime, dim: str, dim_id: str) -> None:
    lo, hi = int(start.timestamp()), int(end.timestamp())
    rows = ctx.session.execute(
        select(CallRollup.bucket, CallRollup.calls, CallRollup.answered, CallRollup.duration_sum)
        .where(CallRollup.account_id == ctx.account_id, CallRollup.dim == dim, CallRollup.dim_id == dim_id,
               CallRollup.bucket >= lo, CallRollup.bucket < hi))
    for bucket, calls, answered, dur in rows:
        acc.add(dt.datetime.fromtimestamp(bucket, UTC), calls, answered, dur, check_offset=True)


def _collect(ctx: Ctx, p: Period, number_id: str | None, agent_id: str | None) -> tuple[_Acc, str]:
    if not (number_id and agent_id):
        dim, dim_id = ("n", number_id) if number_id else (("g", agent_id) if agent_id else ("a", ""))
        lo = -(-int(p.start.timestamp()) // BUCKET_SECONDS) * BUCKET_SECONDS
        hi = int(p.end.timestamp()) // BUCKET_SECONDS * BUCKET_SECONDS
        if lo < hi:
            lo_t, hi_t = dt.datetime.fromtimestamp(lo, UTC), dt.datetime.fromtimestamp(hi, UTC)
            acc = _Acc(p)
            try:
                _rollups(ctx, acc, lo_t, hi_t, dim, dim_id or "")
            except _NeedRaw:
                pass
            else:
                # The partial quarter hours at either end come from the records themselves.
                _raw(ctx, acc, p.start, lo_t, number_id, agent_id)
                _raw(ctx, acc, hi_t, p.end, number_id, agent_id)
                return acc, "rollup"
    acc = _Acc(p)
    _raw(ctx, acc, p.start, p.end, number_id, agent_id)
    return acc, "raw"


def _avg(dur: int, answered: int) -> float | None:
    return round(dur / answered, 1) if answered else None


def analytics(ctx: Ctx, p: Period, *, number_id: str | None = None, agent_id: str | None = None) -> dict[str, Any]:
    """Totals, busy hour and a local-time series for the period (``to`` exclusive)."""
    ctx.require("read")
    if number_id:
        check_number(ctx, number_id)
    if agent_id:
        _check_agent(ctx, agent_id)
    acc, source = _collect(ctx, p, number_id, agent_id)
    series = []
    total = answered = dur_sum = 0
    for start in periods.buckets(p.start, p.end, p.granularity, p.tz):
        calls, ans, dur = acc.series.get(start, (0, 0, 0))
        total, answered, dur_sum = total + calls, answered + ans, dur_sum + dur
        series.append({"start": rfc3339(start), "local_start": start.astimezone(p.tz).isoformat(),
                       "calls": calls, "answered": ans, "missed": calls - ans,
                       "avg_duration_seconds": _avg(dur, ans)})
    missed = total - answered
    busy = max(range(24), key=lambda h: (acc.hours[h], -h)) if total else None
    return {
        "from": rfc3339(p.start), "to": rfc3339(p.end), "timezone": p.tz_name, "granularity": p.granularity,
        "number_id": number_id, "agent_id": agent_id,
        "total_calls": total, "answered_calls": answered, "missed_calls": missed,
        "missed_rate": round(missed / total, 4) if total else 0.0,
        "avg_duration_seconds": _avg(dur_sum, answered), "busy_hour": busy,
        "hour_of_day": [{"hour": h, "calls": c} for h, c in enumerate(acc.hours)],
        "series": series, "source": source,
    }


def breakdown(ctx: Ctx, p: Period, dim: str) -> list[dict[str, Any]]:
    """Totals per number (``dim="n"``) or per agent (``"g"``) over the period's whole quarter hours."""
    ctx.require("read")
    lo = -(-int(p.start.timestamp()) // BUCKET_SECONDS) * BUCKET_SECONDS
    hi = int(p.end.timestamp()) // BUCKET_SECONDS * BUCKET_SECONDS
    rows = ctx.session.execute(
        select(CallRollup.dim_id, func.sum(CallRollup.calls), func.sum(CallRollup.answered),
               func.sum(CallRollup.duration_sum))
        .where(CallRollup.account_id == ctx.account_id, CallRollup.dim == dim,
               CallRollup.bucket >= lo, CallRollup.bucket < hi)
        .group_by(CallRollup.dim_id))
    out = []
    for dim_id, calls, ans, dur in rows:
        calls, ans, dur = int(calls or 0), int(ans or 0), int(dur or 0)
        out.append({"id": dim_id, "calls": calls, "answered": ans, "missed": calls - ans,
                    "missed_rate": round((calls - ans) / calls, 4) if calls else 0.0,
                    "avg_duration_seconds": _avg(dur, ans)})
    out.sort(key=lambda r: (-r["calls"], r["id"]))
    names: dict[str, str] = {}
    ids = [r["id"] for r in out]
    if ids and dim == "n":
        names = numbers.friendly_names(ctx, ids)
    elif ids:
        names = dict(ctx.session.execute(select(Agent.id, Agent.name).where(
            Agent.account_id == ctx.account_id, Agent.id.in_(ids))).all())
    for r in out:
        r["name"] = names.get(r["id"], r["id"])
    return out


def series_csv_rows(result: dict[str, Any]) -> Iterable[list[object]]:
    yield ["start", "local_start", "calls", "answered", "missed", "avg_duration_seconds"]
    for s in result["series"]:
        avg = s["avg_duration_seconds"]
        yield [s["start"], s["local_start"], s["calls"], s["answered"], s["missed"], "" if avg is None else avg]
