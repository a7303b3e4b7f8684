"""The embedded sandbox carrier: a full carrier that needs nothing outside the process.

Its inventory is built deterministically from ``NUMBERDESK_SANDBOX_SEED`` and
``NUMBERDESK_SANDBOX_INVENTORY_SIZE`` (so every process of a deployment has the
same one); what it has sold, is provisioning or is ageing lives in its own tables.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from numberdesk.errors import CarrierError, NumberUnavailable
from numberdesk.kit.ids import new_id
from numberdesk.providers.base import Exclude, Holding, Listing, Order, OrderOutcome, SearchQuery
from numberdesk.providers.sandbox.inventory import Inventory
from numberdesk.providers.sandbox.models import SandboxOrder, SandboxReturn, SandboxSwitch

SWITCHES = ("reject_orders", "stall_provisioning")
_HELD_ORDER_STATES = ("pending", "active", "released")


class SandboxCarrier:
    name = "sandbox"

    def __init__(
        self,
        *,
        seed: int,
        size: int,
        provisioning_seconds: int,
        aging_days: int,
        cache_dir: Path | None = None,
    ) -> None:
        self.seed, self.size = seed, size
        self.provisioning = dt.timedelta(seconds=provisioning_seconds)
        self.aging = dt.timedelta(days=aging_days)
        self._cache_dir = cache_dir
        self._inventory: Inventory | None = None
        self._lock = threading.Lock()

    @property
    def inventory(self) -> Inventory:
        if self._inventory is None:
            with self._lock:
                if self._inventory is None:
                    self._inventory = Inventory.build(self.seed, self.size, self._cache_dir)
        return self._inventory

    # -- what is not for sale ------------------------------------------------
    def _carrier_held(self, session: Session, numbers: list[str], now: dt.datetime) -> set[str]:
        """Numbers the carrier's own books show as sold, on hold or ageing."""
        held = set(
            session.scalars(
                select(SandboxOrder.phone_number).where(
                    SandboxOrder.phone_number.in_(numbers),
                    SandboxOrder.status.in_(_HELD_ORDER_STATES),
                )
            )
        )
        held |= set(
            session.scalars(
                select(SandboxReturn.phone_number).where(
                    SandboxReturn.phone_number.in_(numbers), SandboxReturn.available_at > now
                )
            )
        )
        return held

    def _held(self, session: Session, numbers: list[str], now: dt.datetime,
              exclude: Exclude | None) -> set[str]:
        if not numbers:
            return set()
        held = self._carrier_held(session, numbers, now)
        # Belt and braces: a number any account still holds is never offered.
        if exclude is not None:
            held |= exclude(numbers)
        return held

    def switch(self, session: Session, name: str) -> bool:
        return bool(session.scalar(select(SandboxSwitch.enabled).where(SandboxSwitch.name == name)))

    def set_switch(self, session: Session, name: str, enabled: bool) -> None:
        if name not in SWITCHES:
            raise ValueError(f"unknown sandbox switch {name!r}; known: {', '.join(SWITCHES)}")
        row = session.get(SandboxSwitch, name)
        if row is None:
            session.add(SandboxSwitch(name=name, enabled=enabled))
        else:
            row.enabled = enabled

    # -- Carrier protocol ----------------------------------------------------
    def search(self, session: Session, query: SearchQuery, now: dt.datetime, *,
               exclude: Exclude | None = None) -> list[Listing]:
        return self.inventory.search(
            country=query.country,
            type=query.type,
            area_code=query.area_code,
            prefix=query.prefix,
            contains=query.contains,
            capabilities=query.capabilities,
            locality=query.locality,
            limit=query.limit,
            exclude=lambda batch: self._held(session, batch, now, exclude),
        )

    def lookup(self, session: Session, phone_number: str, now: dt.datetime, *,
               exclude: Exclude | None = None) -> Listing | None:
        listing = self.inventory.get(phone_number)
        if listing is None or self._held(session, [phone_number], now, exclude):
            return None
        return listing

    def order(self, session: Session, listing: Listing, now: dt.datetime) -> Order:
        if self.switch(session, "reject_orders"):
            raise CarrierError(
                "The sandbox carrier rejected the order (switch reject_orders is on)."
            )
        if self._carrier_held(session, [listing.phone_number], now):
            raise NumberUnavailable(f"{listing.phone_number} is not available.")
        ref = new_id("sbo")
        ready_at = now + self.provisioning
        session.add(
            SandboxOrder(
                id=ref,
                phone_number=listing.phone_number,
                status="pending",
                created_at=now,
                ready_at=ready_at,
                stalled=self.switch(session, "stall_provisioning"),
            )
        )
        return Order(ref=ref, ready_at=ready_at)

    def order_status(self, session: Session, ref: str, now: dt.datetime) -> OrderOutcome:
        order = session.get(SandboxOrder, ref)
        if order is None or order.status == "returned":
            return OrderOutcome("failed", "The sandbox carrier has no such order.")
        if order.status == "pending" and not order.stalled and order.ready_at <= now:
            order.status = "active"
        return OrderOutcome("active" if order.status == "active" else "pending")

    def configuration_ok(self, session: Session, ref: str) -> bool:
        order = session.get(SandboxOrder, ref)
        # A number the carrier no longer holds has no working configuration either.
        return order is not None and order.status in _HELD_ORDER_STATES and not order.config_broken

    def set_configuration_broken(self, session: Session, ref: str, broken: bool) -> None:
        session.execute(update(SandboxOrder).where(SandboxOrder.id == ref).values(config_broken=broken))

    def holds(self, session: Session, ref: str) -> bool:
        order = session.get(SandboxOrder, ref)
        return order is not None and order.status in _HELD_ORDER_STATES

    def release(self, session: Session, ref: str, now: dt.datetime) -> None:
        session.execute(
            update(SandboxOrder)
            .where(SandboxOrder.id == ref, SandboxOrder.status.in_(("pending", "active")))
            .values(status="released", released_at=now)
        )

    def reactivate(self, session: Session, ref: str, now: dt.datetime) -> Order:
        order = session.get(SandboxOrder, ref)
        if order is None or order.status != "released":
            raise NumberUnavailable("The carrier no longer holds this number.")
        # A number that was provisioned before comes back at once; a cancelled
        # order (released while pending) must be provisioned again.
        was_active = order.ready_at <= (order.released_at or now) and not order.stalled
        order.status = "active" if was_active else "pending"
        order.released_at = None
        if not was_active:
            order.ready_at = now + self.provisioning
        return Order(ref=ref, ready_at=None if was_active else order.ready_at)

    def return_number(self, session: Session, ref: str, phone_number: str, now: dt.datetime) -> None:
        session.execute(update(SandboxOrder).where(SandboxOrder.id == ref).values(status="returned"))
        session.add(SandboxReturn(phone_number=phone_number, returned_at=now, available_at=now + self.aging))

    def similar(self, session: Session, phone_number: str, now: dt.datetime, limit: int = 5, *,
                exclude: Exclude | None = None) -> list[Listing]:
        return self.inventory.similar(
            phone_number, limit=limit, exclude=lambda batch: self._held(session, batch, now, exclude)
        )

    def holdings(self, session: Session, phone_number: str | None = None) -> list[Holding]:
        q = select(SandboxOrder.id, SandboxOrder.phone_number, SandboxOrder.created_at).where(
            SandboxOrder.status.in_(_HELD_ORDER_STATES))
        if phone_number is not None:
            q = q.where(SandboxOrder.phone_number == phone_number)
        return [Holding(ref, e164, since) for ref, e164, since in session.execute(q.order_by(SandboxOrder.id))]

    def adopt(self, session: Session, holding: Holding, now: dt.datetime) -> tuple[Listing, Order] | None:
        order = session.get(SandboxOrder, holding.ref)
        listing = self.inventory.get(holding.phone_number)
        if order is None or listing is None or order.status not in ("pending", "active"):
            return None
        # The order keeps its own provisioning time: adopting it changes nothing at the carrier.
        return listing, Order(ref=order.id, ready_at=order.ready_at)
