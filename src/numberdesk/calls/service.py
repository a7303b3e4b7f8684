"""Calls: in progress (they block a release), finished (records), their rollups, and carrier events.

The only writer of ``active_calls``, ``calls``, ``call_rollups`` and
``webhook_events``. A carrier event is stored once (``webhook_events``), then
handled in a way that is safe to repeat and to receive out of order: once a call
has its record, nothing brings back its "in progress" row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import (
    Insert,
    String,
    and_,
    bindparam,
    delete,
    exists,
    insert,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from numberdesk.accounts.service import get_account
from numberdesk.analytics import periods
from numberdesk.audit import service as audit
from numberdesk.auth.context import Ctx
from numberdesk.calls.models import BUCKET_SECONDS, ActiveCall, Call, CallRollup, WebhookEvent
from numberdesk.db import UTCDateTime
from numberdesk.errors import NotFound, ValidationFailed
from numberdesk.kit import pagination, phone
from numberdesk.kit.ids import new_id, new_ids
from numberdesk.kit.sql import dialect_insert
from numberdesk.numbers import repository as numbers
from numberdesk.numbers.models import PhoneNumber
from numberdesk.pools.models import Pool
from numberdesk.routing import resolve

PROGRESS_STATUSES = ("ringing", "in_progress")
MAX_BATCH = 10_000
MAX_REPORTED_ERRORS = 200
# A call that has not been heard of for this long lost its final callback.
STALE_AFTER = dt.timedelta(hours=25)
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
UTC = dt.UTC
_WITHHELD = frozenset({"anonymous", "restricted", "unknown", "unavailable"})


# -- carrier events ---------------------------------------------------------------------
@dataclass
class CallEvent:
    """A carrier's call status event, in our words."""

    provider: str
    call_sid: str
    status: str                          # ringing | in_progress | a final status | ended (see below)
    at: dt.datetime                      # when it happened (the carrier's time, else the clock)
    to: str | None = None
    from_: str | None = None
    direction: str = "inbound"
    duration: int | None = None          # seconds talked, when the carrier says
    started_at: dt.datetime | None = None
    answered_at: dt.datetime | None = None
    # For "ended" (the carrier does not say how): completed if the call was
    # answered, else this status.
    unanswered_status: str = "canceled"


def claim_event(session: Session, provider: str, event_id: str, now: dt.datetime) -> bool:
    """Store a carrier event once; False when it was seen before (handle it only once)."""
    ins = dialect_insert(session.get_bind().dialect.name, WebhookEvent.__table__)
    stmt = ins.values(provider=provider, event_id=event_id[:200], received_at=now).on_conflict_do_nothing(
        index_elements=["provider", "event_id"]).returning(WebhookEvent.id)
    return session.execute(stmt).first() is not None


def _lock_call(session: Session, provider: str, call_sid: str) -> None:
    """Serialize the events of one call (SQLite write transactions already are)."""
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.blake2b(f"{provider}:{call_sid}".encode(), digest_size=8).digest(),
                             "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


_OPEN_COLUMNS = ("account_id", "number_id", "agent_id", "provider", "call_sid", "status", "from_number",
                 "to_number", "started_at", "updated_at")
_OPEN_STATEMENTS: dict[str, Insert] = {}


def open_call_statement(dialect: str) -> Insert:
    """INSERT a ringing call unless it already has its record (a late or repeated webhook)."""
    stmt = _OPEN_STATEMENTS.get(dialect)
    if stmt is None:
        types = {"started_at": UTCDateTime(), "updated_at": UTCDateTime()}
        values = select(*[bindparam(c, type_=types.get(c, String())) for c in _OPEN_COLUMNS]).where(
            ~exists().where(Call.provider == bindparam("provider"),
                            Call.provider_call_id == bindparam("call_sid")))
        stmt = dialect_insert(dialect, ActiveCall.__table__).from_select(list(_OPEN_COLUMNS), values)
        stmt = stmt.on_conflict_do_nothing(index_elements=["provider", "call_sid"])
        _OPEN_STATEMENTS[dialect] = stmt
    return stmt


class Route(Protocol):
    """The routing decision for a call's number (``routing.decide.RouteDecision``)."""

    routed: bool
    account_id: str | None
    number_id: str | None
    agent_id: str | None


def handle_event(session: Session, ev: CallEvent, now: dt.datetime, route: Callable[[], Route]) -> str:
    """Apply a status event; returns what it did (``active``, ``recorded``, ``ignored``).

    ``route`` gives the routing decision for the number called, asked only when the
    call is not known yet (the routing layer decides; calls only record).
    """
    _lock_call(session, ev.provider, ev.call_sid)
    if session.scalar(select(Call.id).where(Call.provider == ev.provider,
                                            Call.provider_call_id == ev.call_sid)) is not None:
        return "ignored"  # the call already ended: a late event must not bring it back
    ac = session.scalar(select(ActiveCall).where(ActiveCall.provider == ev.provider,
                                                 ActiveCall.call_sid == ev.call_sid))
    if ev.status in PROGRESS_STATUSES:
        if ac is not None:
            # Out of order: a late "ringing" never turns an answered call back.
            if ev.status == "in_progress" and ac.status != "in_progress":
                ac.status = "in_progress"
                ac.answered_at = max(ev.answered_at or ev.at, ac.started_at)
            ac.updated_at = now
            return "active"
        d = route()
        if not d.routed:
            return "ignored"
        session.add(ActiveCall(
            account_id=d.account_id, number_id=d.number_id, agent_id=d.agent_id, provider=ev.provider,
            call_sid=ev.call_sid[:100], status=ev.status, from_number=(ev.from_ or "")[:32] or None,
            to_number=(ev.to or "")[:32] or None, started_at=ev.started_at or ev.at,
            answered_at=(ev.answered_at or ev.at) if ev.status == "in_progress" else None, updated_at=now))
        return "active"

    status = ev.status
    if status == "ended":
        was_answered = (ac is not None and ac.answered_at is not None) or ev.answered_at is not None
        status = "completed" if was_answered else ev.unanswered_status
    if ac is not None:
        account_id, number_id, agent_id = ac.account_id, ac.number_id, ac.agent_id
        started, answered = ac.started_at, ac.answered_at
        from_, to = ac.from_number or ev.from_, ac.to_number or ev.to
    else:
        d = route()
        if not d.routed:
            return "ignored"
        account_id, number_id, agent_id = d.account_id, d.number_id, d.agent_id
        started, answered = ev.started_at, None
        from_, to = ev.from_, ev.to
    ended = ev.at
    if status == "completed":
        answered = answered or ev.answered_at
        if answered is None and ev.duration is not None:
            answered = ended - dt.timedelta(seconds=ev.duration)
        answered = answered or started or ended
    else:
        answered = None
    started = started or answered or ended
    if answered is not None:
        answered = max(answered, started)
    ended = max(ended, answered or started)
    if answered is None:
        duration = 0
    elif ev.duration is not None:
        duration = max(0, ev.duration)
    else:
        duration = int((ended - answered).total_seconds())
    record_calls(session, [{
        "id": new_id("call"), "account_id": account_id, "number_id": number_id, "agent_id": agent_id,
        "direction": ev.direction, "from_number": (from_ or "unknown")[:32], "to_number": (to or "unknown")[:32],
        "status": status, "started_at": started, "answered_at": answered, "ended_at": ended,
        "duration_seconds": duration, "provider": ev.provider, "provider_call_id": ev.call_sid[:100],
        "created_at": now,
    }])
    if ac is not None:
        session.execute(delete(ActiveCall).where(ActiveCall.id == ac.id))
    return "recorded"


def active_calls(ctx: Ctx, number_id: str | None = None) -> list[ActiveCall]:
    """The account's calls ringing or in progress (the release blocker reads the same table)."""
    ctx.require("read")
    q = select(ActiveCall).where(ActiveCall.account_id == ctx.account_id)
    if number_id:
        q = q.where(ActiveCall.number_id == number_id)
    return list(ctx.session.scalars(q.order_by(ActiveCall.started_at, ActiveCall.id)))


def sweep_stale_active_calls(session: Session, settings: Any, now: dt.datetime) -> int:
    """Forget calls whose final callback never came, so they do not block a release forever."""
    return session.execute(delete(ActiveCall).where(ActiveCall.updated_at < now - STALE_AFTER)).rowcount or 0


# -- records and rollups ---------------------------------------------------------------------
CALL_COLUMNS = ("id", "account_id", "number_id", "agent_id", "direction", "from_number", "to_number", "status",
                "started_at", "answered_at", "ended_at", "duration_seconds", "provider", "provider_call_id",
                "created_at")
_TIME_COLUMNS = frozenset({"started_at", "answered_at", "ended_at", "created_at"})
ROLLUP_COLUMNS = ("account_id", "dim", "dim_id", "bucket", "calls", "answered", "duration_sum")


def bucket_of(at: dt.datetime) -> int:
    return int(at.timestamp()) // BUCKET_SECONDS * BUCKET_SECONDS


def rollup_deltas(rows: Iterable[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What a set of call records adds to the rollups: one ``ROLLUP_COLUMNS`` tuple per key, in key order."""
    acc: dict[tuple[str, str, str, int], list[int]] = {}
    get = acc.get
    for r in rows:
        b = int(r["started_at"].timestamp()) // BUCKET_SECONDS * BUCKET_SECONDS
        answered = 1 if r["status"] == "completed" else 0
        dur = r["duration_seconds"] if answered else 0
        account, agent = r["account_id"], r["agent_id"]
        for k in ((account, "a", "", b), (account, "n", r["number_id"], b),
                  (account, "g", agent, b) if agent else None):
            if k is None:
                continue
            v = get(k)
            if v is None:
                acc[k] = [1, answered, dur]
            else:
                v[0] += 1
                v[1] += answered
                v[2] += dur
    # Key order: concurrent writers lock rollup rows in the same order (no deadlocks).
    return [(*k, *v) for k, v in sorted(acc.items())]


def sqlite_time(value: dt.datetime) -> str:
    """A time as SQLAlchemy's SQLite dialect stores ``UTCDateTime`` (naive UTC, microseconds),
    in a fraction of its time."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


class _Bulk:
    """The call insert and the rollup upsert, compiled by SQLAlchemy for one dialect and run
    with the driver's ``executemany`` inside the session's transaction.

    Measured (``bench/bench_calls.py``, ingest): Core's per-row parameter processing
    cost more than SQLite's own work; here the only per-row work is formatting times.
    """

    def __init__(self, dialect: Any) -> None:
        calls_t, rollups_t = Call.__table__, CallRollup.__table__
        ins = dialect_insert(dialect.name, rollups_t)
        upsert = ins.on_conflict_do_update(
            index_elements=["account_id", "dim", "dim_id", "bucket"],
            set_={"calls": rollups_t.c.calls + ins.excluded.calls,
                  "answered": rollups_t.c.answered + ins.excluded.answered,
                  "duration_sum": rollups_t.c.duration_sum + ins.excluded.duration_sum})
        c_insert = insert(calls_t).compile(dialect=dialect, column_keys=list(CALL_COLUMNS))
        c_upsert = upsert.compile(dialect=dialect, column_keys=list(ROLLUP_COLUMNS))
        self.insert_sql, self.upsert_sql = str(c_insert), str(c_upsert)
        self.insert_order = c_insert.positiontup
        self.upsert_order = c_upsert.positiontup
        if dialect.name == "sqlite":
            self.stamp: Any = sqlite_time
        else:
            self.stamp = UTCDateTime().dialect_impl(dialect).bind_processor(dialect) or (lambda v: v)

    def call_params(self, rows: list[dict[str, Any]]) -> list[Any]:
        stamp = self.stamp
        if self.insert_order:
            get = operator.itemgetter(*self.insert_order)
            times = [i for i, k in enumerate(self.insert_order) if k in _TIME_COLUMNS]
            out = []
            for r in rows:
                values = list(get(r))
                for i in times:
                    if values[i] is not None:
                        values[i] = stamp(values[i])
                out.append(values)
            return out
        return [{k: (stamp(v) if k in _TIME_COLUMNS and v is not None else v) for k, v in r.items()} for r in rows]

    def rollup_params(self, deltas: list[tuple[Any, ...]]) -> list[Any]:
        if self.upsert_order:
            index = [ROLLUP_COLUMNS.index(k) for k in self.upsert_order]
            return [tuple(d[i] for i in index) for d in deltas]
        return [dict(zip(ROLLUP_COLUMNS, d, strict=True)) for d in deltas]


_bulk: dict[tuple[str, str], _Bulk] = {}


def record_calls(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert finished calls (dicts of ``CALL_COLUMNS``) and add them to the rollups, in the
    caller's transaction."""
    if not rows:
        return
    conn = session.connection()
    key = (conn.dialect.name, conn.dialect.driver)
    bulk = _bulk.get(key)
    if bulk is None:
        bulk = _bulk[key] = _Bulk(conn.dialect)
    session.flush()
    cur = conn.connection.cursor()
    try:
        cur.executemany(bulk.insert_sql, bulk.call_params(rows))
        deltas = bulk.rollup_params(rollup_deltas(rows))
        for i in range(0, len(deltas), 5000):
            cur.executemany(bulk.upsert_sql, deltas[i:i + 5000])
    finally:
        cur.close()


# -- batch ingest -------------------------------------------------------------------------------
class CallRecord(Protocol):
    number: str
    direction: str
    from_: str
    to: str
    started_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    status: str


def _phone(value: str) -> str | None:
    if _E164.match(value):
        return value
    try:
        return phone.parse(value)
    except ValidationFailed:
        return None


def _numbers_by_e164(ctx: Ctx, e164s: set[str]) -> dict[str, tuple[str, str | None]]:
    """The account's number for each E.164 (the live one, else the latest it had) and its agent."""
    out: dict[str, tuple[str, str | None]] = {}
    best: dict[str, tuple[bool, dt.datetime]] = {}
    wanted = sorted(e164s)
    for i in range(0, len(wanted), 500):
        rows = ctx.session.execute(
            select(PhoneNumber.phone_number, PhoneNumber.id, PhoneNumber.agent_id, PhoneNumber.pool_id,
                   Pool.agent_id, PhoneNumber.returned_at, PhoneNumber.purchased_at)
            .outerjoin(Pool, and_(Pool.id == PhoneNumber.pool_id, Pool.account_id == PhoneNumber.account_id))
            .where(PhoneNumber.account_id == ctx.account_id, PhoneNumber.phone_number.in_(wanted[i:i + 500])))
        for e164, nid, agent_id, pool_id, pool_agent_id, returned_at, purchased_at in rows:
            rank = (returned_at is None, purchased_at)
            if e164 not in best or rank > best[e164]:
                best[e164] = rank
                out[e164] = (nid, resolve.target(
                    agent_id=agent_id, agent_name=None, agent_destination=None, pool_id=pool_id,
                    pool_name=None, pool_agent_id=pool_agent_id, pool_agent_name=None,
                    pool_agent_destination=None, fallback=None).agent_id)
    return out


def ingest(ctx: Ctx, records: Sequence[CallRecord]) -> dict[str, Any]:
    """Store a batch of finished calls: all of them, or none with every bad record named by index.

    Each call is attributed to the agent its number routes to now (directly or
    through its pool).
    """
    ctx.require("calls.ingest")
    if len(records) > MAX_BATCH:
        raise ValidationFailed.field("calls", f"at most {MAX_BATCH} calls per request")
    now = ctx.now()
    horizon = now + dt.timedelta(minutes=5)
    errors: list[dict[str, Any]] = []
    numbers_wanted: set[str] = set()
    normalized: list[tuple[str | None, str | None, str | None]] = []

    def bad(i: int, field: str, detail: str) -> None:
        errors.append({"field": f"calls.{i}.{field}", "index": i, "detail": detail})

    for i, r in enumerate(records):
        num = _phone(r.number)
        if num is None:
            bad(i, "number", f"{r.number!r} is not a phone number")
        else:
            numbers_wanted.add(num)
        frm = r.from_ if r.from_.lower() in _WITHHELD else _phone(r.from_)
        if frm is None:
            bad(i, "from", f"{r.from_!r} is not a phone number (or anonymous)")
        to = _phone(r.to)
        if to is None:
            bad(i, "to", f"{r.to!r} is not a phone number")
        normalized.append((num, frm, to))
    held = _numbers_by_e164(ctx, numbers_wanted) if numbers_wanted else {}

    rows: list[dict[str, Any]] = []
    ids = new_ids("call", len(records))
    for i, (r, (num, frm, to)) in enumerate(zip(records, normalized, strict=True)):
        if num is not None and num not in held:
            bad(i, "number", f"{num} is not a number of this account")
        started = r.started_at.astimezone(UTC)
        answered = r.answered_at.astimezone(UTC) if r.answered_at is not None else None
        ended = r.ended_at.astimezone(UTC) if r.ended_at is not None else None
        if started > horizon:
            bad(i, "started_at", "is in the future")
        if r.status == "completed":
            if answered is None:
                bad(i, "answered_at", "is required for a completed (answered) call")
            if ended is None:
                bad(i, "ended_at", "is required for a completed call")
        elif answered is not None:
            bad(i, "answered_at", f"must be empty for a {r.status} call (it was not answered)")
        if answered is not None and answered < started:
            bad(i, "answered_at", "is before started_at")
        if ended is not None and ended < (answered or started):
            bad(i, "ended_at", "is before answered_at" if answered else "is before started_at")
        if ended is not None and ended - started > dt.timedelta(days=7):
            bad(i, "ended_at", "the call would be longer than 7 days")
        if errors or num is None:
            continue  # keep checking, but build nothing once the batch is refused
        nid, agent_id = held[num]
        duration = int((ended - answered).total_seconds()) if answered is not None and ended is not None else 0
        rows.append({
            "id": ids[i], "account_id": ctx.account_id, "number_id": nid, "agent_id": agent_id,
            "direction": r.direction, "from_number": frm, "to_number": to, "status": r.status,
            "started_at": started, "answered_at": answered, "ended_at": ended, "duration_seconds": duration,
            "provider": None, "provider_call_id": None, "created_at": now,
        })
    if errors:
        first = "; ".join(f"{e['field']}: {e['detail']}" for e in errors[:3])
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        err = ValidationFailed(f"No calls were stored: {first}{more}.", errors[:MAX_REPORTED_ERRORS])
        err.extra["error_count"] = len(errors)
        raise err
    # In time order: the time-keyed indexes are then written mostly in order.
    rows.sort(key=lambda r: r["started_at"])
    record_calls(ctx.session, rows)
    audit.record(ctx, "calls.ingest", "calls", None, None,
                 {"count": len(rows), "numbers": len({r["number_id"] for r in rows}),
                  "first_started_at": min(r["started_at"] for r in rows),
                  "last_started_at": max(r["started_at"] for r in rows)})
    return {"ingested": len(rows)}


# -- reading ------------------------------------------------------------------------------------------
@dataclass
class CallFilter:
    number_id: str | None = None
    agent_id: str | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    status: str | None = None


def call_filter(ctx: Ctx, *, number_id: str | None = None, agent_id: str | None = None,
                start: str | None = None, end: str | None = None, status: str | None = None) -> CallFilter:
    """A filter from what a person typed: ``start``/``end`` are dates (local midnights in the
    account's zone) or RFC 3339 times; 422 for a bound that is neither."""
    tz = periods.zone(get_account(ctx).timezone)
    return CallFilter(number_id=number_id, agent_id=agent_id, status=status,
                      start=periods.parse_bound(start, tz, "from") if start else None,
                      end=periods.parse_bound(end, tz, "to") if end else None)


def check_number(ctx: Ctx, number_id: str) -> None:
    if not numbers.exists_in_account(ctx, number_id):
        raise NotFound(f"No number {number_id} in this account.")


def list_calls(ctx: Ctx, f: CallFilter, *, limit: int,
               after: tuple[dt.datetime, str] | None = None) -> list[tuple[Call, str]]:
    """Calls newest first with their number's E.164, by keyset (cost does not grow with depth)."""
    ctx.require("read")
    if f.number_id:
        check_number(ctx, f.number_id)
    q = (select(Call, PhoneNumber.phone_number).join(PhoneNumber, PhoneNumber.id == Call.number_id)
         .where(Call.account_id == ctx.account_id))
    if f.number_id:
        q = q.where(Call.number_id == f.number_id)
    if f.agent_id:
        q = q.where(Call.agent_id == f.agent_id)
    if f.status:
        q = q.where(Call.status == f.status)
    if f.start:
        q = q.where(Call.started_at >= f.start)
    if f.end:
        q = q.where(Call.started_at < f.end)
    if after:
        q = q.where(or_(Call.started_at < after[0], and_(Call.started_at == after[0], Call.id < after[1])))
    q = q.order_by(Call.started_at.desc(), Call.id.desc()).limit(limit + 1)
    return [(c, e164) for c, e164 in ctx.session.execute(q)]


def calls_page(ctx: Ctx, f: CallFilter, *, limit: int,
               cursor: str | None) -> tuple[list[tuple[Call, str]], str | None]:
    """A page of calls, newest first, and the cursor of the next page."""
    after = pagination.decode(cursor, kinds=(dt.datetime, str)) if cursor else None
    rows = list_calls(ctx, f, limit=limit, after=after)  # type: ignore[arg-type]
    return pagination.page(rows, limit, lambda r: (r[0].started_at, r[0].id))


def iter_calls(ctx: Ctx, f: CallFilter, page: int = 2000) -> Iterator[tuple[Call, str]]:
    """Every call matching the filter, newest first, fetched a page at a time."""
    after = None
    while True:
        rows = list_calls(ctx, f, limit=page, after=after)
        yield from rows[:page]
        if len(rows) <= page:
            return
        last = rows[page - 1][0]
        after = (last.started_at, last.id)
