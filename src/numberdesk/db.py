"""Engine, sessions and the column types every model shares.

SQLite is the embedded default: WAL, foreign keys on, and write transactions
that start with ``BEGIN IMMEDIATE`` so two writers never deadlock on a lock
upgrade (SQLAlchemy's ``with_for_update`` does nothing there). Reads use a second
engine on the same file whose transactions start deferred, so readers never
queue behind writers. PostgreSQL needs none of this.

Write transactions opened by requests also take a *write slot* first
(``Database.write_slots``), waiting for it on the event loop. A request holds its
database locks until its response is serialised, and FastAPI serialises the
response of a sync endpoint in the worker-thread pool: if every pool thread were
blocked waiting for a lock, the holder could never get a thread to finish and
commit (on SQLite that ends in "database is locked" after the busy timeout).
Bounding the writers well below the thread pool's size keeps threads free.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
from anyio.lowlevel import RunVar
from sqlalchemy import BigInteger, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use numberdesk.clock")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


# Integer minor units (cents) for money; never floats.
Money = BigInteger


def _sqlite_engine(url: str, immediate: bool) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


# Per event loop (an asyncio primitive belongs to one loop; the thread pool's
# capacity it protects is per loop too).
_WRITE_SLOTS: RunVar[anyio.Semaphore] = RunVar("numberdesk_write_slots")
# SQLite has one writer at a time: queue the others on the event loop rather than
# in SQLite's sleeping busy handler. PostgreSQL writes in parallel; stay far below
# the pool of 40 threads and the 30 pooled connections.
SQLITE_WRITE_SLOTS = 1
POSTGRES_WRITE_SLOTS = 10


class Database:
    """One deployment's database: a write engine and, on SQLite, a read engine."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.engine = _sqlite_engine(url, immediate=True)
            self.read_engine = _sqlite_engine(url, immediate=False)
        else:
            self.engine = create_engine(
                url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True
            )
            self.read_engine = self.engine
        self._write = sessionmaker(self.engine, expire_on_commit=False)
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any exception."""
        maker = self._write if write else self._read
        with maker() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def write_slots(self) -> anyio.Semaphore:
        """The event loop's gate for write transactions (see the module docstring)."""
        try:
            return _WRITE_SLOTS.get()
        except LookupError:
            slots = anyio.Semaphore(SQLITE_WRITE_SLOTS if self.is_sqlite else POSTGRES_WRITE_SLOTS)
            _WRITE_SLOTS.set(slots)
            return slots

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
