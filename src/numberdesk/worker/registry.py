"""Sweeps register here (``@sweep``); the composition root ``numberdesk.tasks`` fixes their order.

A sweep is ``fn(session, settings, now) -> how many rows it changed``: a compare-and-set
pass that acts on a row only if it is still in the state it read, so several workers
at once never apply a change twice. ``every`` throttles a sweep for the whole
deployment: before each pass the runner claims it in ``SweepMark`` (compare-and-set),
and only the worker that claimed it runs it until it is due again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from numberdesk.config import Settings
from numberdesk.kit.sql import insert_ignore
from numberdesk.worker.models import SweepMark

Sweep = Callable[[Session, Settings, dt.datetime], int]


@dataclass(frozen=True)
class Registered:
    name: str
    fn: Sweep
    every: dt.timedelta | None = None


_SWEEPS: dict[str, Registered] = {}
_ORDER: list[str] = []


def sweep(name: str, *, every: dt.timedelta | None = None) -> Callable[[Sweep], Sweep]:
    """Register ``fn`` as the sweep ``name``; with ``every``, it runs at most once per that
    much clock time across all workers."""

    def deco(fn: Sweep) -> Sweep:
        _SWEEPS.setdefault(name, Registered(name, fn, every))
        return fn

    return deco


def arrange(order: tuple[str, ...]) -> None:
    """Fix the order sweeps run in; every registered sweep must be named, and only those."""
    unknown = [n for n in order if n not in _SWEEPS]
    unplaced = [n for n in _SWEEPS if n not in order]
    if unknown or unplaced:
        raise RuntimeError(f"sweep order does not match the registered sweeps: not registered {unknown}, "
                           f"not placed {unplaced}")
    _ORDER[:] = order


def sweeps() -> list[Registered]:
    """The registered sweeps in their order (any not yet placed run last)."""
    rank = {n: i for i, n in enumerate(_ORDER)}
    return sorted(_SWEEPS.values(), key=lambda r: rank.get(r.name, len(rank)))


def claim_pass(session: Session, name: str, now: dt.datetime, every_seconds: float) -> str | None:
    """For the one worker that may run the throttled pass ``name`` now: where to go on from
    (``""`` = the start); None for every other worker, and until the pass is due again."""
    due = now - dt.timedelta(seconds=every_seconds)
    if session.execute(update(SweepMark).where(SweepMark.name == name, SweepMark.ran_at <= due)
                       .values(ran_at=now)).rowcount == 1:
        return session.scalar(select(SweepMark.cursor).where(SweepMark.name == name)) or ""
    if insert_ignore(session, SweepMark.__table__, {"name": name, "ran_at": now, "cursor": ""}) == 1:
        return ""
    return None


def cursor(session: Session, name: str) -> str:
    """Where the throttled sweep ``name`` goes on from (``""`` = the start)."""
    return session.scalar(select(SweepMark.cursor).where(SweepMark.name == name)) or ""


def set_cursor(session: Session, name: str, value: str) -> None:
    session.execute(update(SweepMark).where(SweepMark.name == name).values(cursor=value))
