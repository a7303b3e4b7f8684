"""Answering an inbound call: the voice webhooks' hot path.

One indexed lookup decides the route; the call is recorded as ringing (committed)
before the answer goes out; the answer is a cached TwiML/TeXML document.

What keeps it close to the cost of a bare endpoint (measured in ``bench/bench_calls.py``):

* The two statements (the route query of ``routing.decide`` and the guarded insert
  of ``calls.service``) are compiled once by SQLAlchemy for the engine's dialect and
  run on the driver's connection, without Core's per-statement work.
* On SQLite, the work stays on the event loop, on a connection of its own: a read in
  WAL mode never waits, and the ringing rows of every request that reached this
  point in the same turn of the loop are committed together (group commit), so a
  burst of calls pays for one commit, not one each. Handing each call to a thread
  cost more than the database work itself (thread switches, the GIL). The loop
  never waits for a lock: that connection does not wait (``busy_timeout`` 0), and
  when another writer holds the lock the batch is written from the thread pool.
* On PostgreSQL (network round trips) the lookup and insert run in the thread pool.
"""

from __future__ import annotations

import asyncio
import operator
import sqlite3
import threading
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from numberdesk.calls import service as calls
from numberdesk.db import Database, UTCDateTime
from numberdesk.routing.decide import ROUTE_QUERY, RouteDecision, answer_for, decision_from_row
from numberdesk.runtime import AppState


def _arranger(positions: Any) -> Callable[[dict[str, Any]], Any]:
    if not positions:
        return lambda values: values
    if len(positions) == 1:
        key = positions[0]
        return lambda values: (values[key],)
    return operator.itemgetter(*positions)


class _Statements:
    """The route query and the ringing-call insert, compiled for one engine's dialect."""

    def __init__(self, engine: Engine) -> None:
        dialect = engine.dialect
        self.engine = engine
        self.sqlite = dialect.name == "sqlite"
        route = ROUTE_QUERY.compile(dialect=dialect)
        opened = calls.open_call_statement(dialect.name).compile(dialect=dialect)
        self.route_sql, self.open_sql = str(route), str(opened)
        # Parameters in the order the driver wants them (positional), or by name.
        self.route_args = _arranger(route.positiontup)
        self.open_args = _arranger(opened.positiontup)
        stamp = UTCDateTime().dialect_impl(dialect)
        self.bind_time: Callable[[Any], Any] = stamp.bind_processor(dialect) or (lambda v: v)
        self.read_time: Callable[[Any], Any] = stamp.result_processor(dialect, None) or (lambda v: v)

    def lookup_on(self, raw: Any, e164: str) -> Any:
        """The route query's row for the live number ``e164`` (None: nobody holds it)."""
        cur = raw.cursor()
        try:
            cur.execute(self.route_sql, self.route_args({"e164": e164}))
            row = cur.fetchone()
        finally:
            cur.close()
        return None if row is None else (*row[:4], self.read_time(row[4]), *row[5:])

    def insert_on(self, raw: Any, rows: list[Any]) -> None:
        """Insert ringing calls in one transaction."""
        cur = raw.cursor()
        try:
            if self.sqlite:
                # Connections are in autocommit mode: open the write transaction
                # ourselves, as the engine's sessions do.
                cur.execute("BEGIN IMMEDIATE")
                try:
                    cur.executemany(self.open_sql, rows)
                    cur.execute("COMMIT")
                except BaseException:
                    cur.execute("ROLLBACK")
                    raise
            else:
                cur.executemany(self.open_sql, rows)
                raw.commit()
        finally:
            cur.close()

    def pooled(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(raw_connection, *args)`` on a pooled connection (in a worker thread)."""
        raw = self.engine.raw_connection()
        try:
            out = fn(raw, *args)
            raw.commit()
            return out
        except BaseException:
            raw.rollback()
            raise
        finally:
            raw.close()

    def lookup_and_insert(self, raw: Any, e164: str,
                          decide: Callable[[Any], tuple[RouteDecision, Any]]) -> RouteDecision:
        decision, row = decide(self.lookup_on(raw, e164))
        if row is not None:
            self.insert_on(raw, [row])
        return decision


# About what SQLite's default automatic checkpoint (1000 pages) lets the WAL grow to.
CHECKPOINT_ROWS = 2000


class _LoopWriter:
    """Group commit on one event loop (SQLite): a request waits until its row is committed."""

    def __init__(self, stmts: _Statements, loop: asyncio.AbstractEventLoop, db: Database) -> None:
        self.stmts, self.loop, self.db = stmts, loop, db
        raw = stmts.engine.raw_connection()
        raw.detach()  # the loop keeps this connection; the pool stays for everybody else
        cur = raw.cursor()
        cur.execute("PRAGMA busy_timeout = 0")
        # A checkpoint writes the WAL back with an fsync: never on the loop (see _flush).
        cur.execute("PRAGMA wal_autocheckpoint = 0")
        # Room for the numbers' index and rows (~20 MB per 100,000 numbers), so the lookups
        # do not depend on what the operating system keeps in its page cache.
        cur.execute("PRAGMA cache_size = -65536")
        cur.close()
        self.raw = raw
        self._pending: list[tuple[Any, asyncio.Future[None]]] = []
        self._scheduled = False
        self._since_checkpoint = 0
        self._checkpointing = False
        self._tasks: set[asyncio.Future[Any]] = set()

    def lookup(self, e164: str) -> Any:
        return self.stmts.lookup_on(self.raw, e164)

    async def write(self, row: Any) -> None:
        fut: asyncio.Future[None] = self.loop.create_future()
        self._pending.append((row, fut))
        if not self._scheduled:
            self._scheduled = True
            # After the requests already runnable in this turn have queued their rows.
            self.loop.call_soon(self._flush)
        await fut

    def _flush(self) -> None:
        self._scheduled = False
        batch, self._pending = self._pending, []
        rows = [row for row, _ in batch]
        futs = [fut for _, fut in batch]
        try:
            self.stmts.insert_on(self.raw, rows)
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                _settle(futs, exc)
                return
            # Another writer holds the lock: wait for it in a thread, never on the loop.
            self._spawn(self._write_later(rows, futs))
        except Exception as exc:  # every waiting request fails with it (the carrier retries)
            _settle(futs, exc)
        else:
            _settle(futs, None)
            self._since_checkpoint += len(rows)
            if self._since_checkpoint >= CHECKPOINT_ROWS and not self._checkpointing:
                self._checkpoint()

    async def _write_later(self, rows: list[Any], futs: list[asyncio.Future[None]]) -> None:
        try:
            # Queued behind the deployment's other writers, as request transactions are.
            async with self.db.write_slots():
                await run_in_threadpool(self.stmts.pooled, self.stmts.insert_on, rows)
        except Exception as exc:
            _settle(futs, exc)
        else:
            _settle(futs, None)

    def _checkpoint(self) -> None:
        """Write the WAL back to the database file from the thread pool (what SQLite's
        automatic checkpoint would do inside the committing call, on the loop)."""
        self._since_checkpoint, self._checkpointing = 0, True

        def done(_: Any) -> None:
            self._checkpointing = False

        self._spawn(run_in_threadpool(self.stmts.pooled, _passive_checkpoint)).add_done_callback(done)

    def _spawn(self, coro: Any) -> asyncio.Future[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(self._tasks.discard)
        return task


def _passive_checkpoint(raw: Any) -> None:
    cur = raw.cursor()
    try:
        cur.execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        cur.close()


def _settle(futs: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for fut in futs:
        if fut.done():
            continue
        if error is None:
            fut.set_result(None)
        else:
            fut.set_exception(error)


_statements: weakref.WeakKeyDictionary[Engine, _Statements] = weakref.WeakKeyDictionary()
_writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[_Statements, _LoopWriter]] = (
    weakref.WeakKeyDictionary())
_lock = threading.Lock()


def _statements_for(engine: Engine) -> _Statements:
    stmts = _statements.get(engine)
    if stmts is None:
        with _lock:
            stmts = _statements.get(engine) or _statements.setdefault(engine, _Statements(engine))
    return stmts


def _writer_for(stmts: _Statements, db: Database) -> _LoopWriter:
    loop = asyncio.get_running_loop()
    per_loop = _writers.get(loop)
    if per_loop is None:
        per_loop = _writers.setdefault(loop, {})
    writer = per_loop.get(stmts)
    if writer is None:
        writer = per_loop[stmts] = _LoopWriter(stmts, loop, db)
    return writer


async def answer_call(st: AppState, provider: str, call_sid: str | None, from_: str | None,
                      to: str | None) -> str:
    """Route an inbound call, record it as ringing (committed before this returns), and
    return the TwiML/TeXML answer."""
    now = st.clock.now()
    e164 = to or ""
    if not e164:
        return answer_for(decision_from_row(e164, None, now))
    stmts = _statements_for(st.db.engine)

    def ringing(found: Any) -> tuple[RouteDecision, Any]:
        """The decision, and the insert's parameters for a routed call (None: nothing to record)."""
        decision = decision_from_row(e164, found, now)
        if not (decision.routed and call_sid):
            return decision, None
        stamp = stmts.bind_time(now)
        # Inserted unless the call already has its record (a late retry) or is already
        # known (a repeated webhook): the statement itself checks both.
        return decision, stmts.open_args({
            "account_id": decision.account_id, "number_id": decision.number_id,
            "agent_id": decision.agent_id, "provider": provider, "call_sid": call_sid[:100],
            "status": "ringing", "from_number": (from_ or "")[:32] or None, "to_number": e164[:32],
            "started_at": stamp, "updated_at": stamp})

    if stmts.sqlite:
        writer = _writer_for(stmts, st.db)
        try:
            found = writer.lookup(e164)
        except sqlite3.OperationalError:
            found = await run_in_threadpool(stmts.pooled, stmts.lookup_on, e164)
        decision, row = ringing(found)
        if row is not None:
            await writer.write(row)
    else:
        async with st.db.write_slots():
            decision = await run_in_threadpool(stmts.pooled, stmts.lookup_and_insert, e164, ringing)
    return answer_for(decision)
