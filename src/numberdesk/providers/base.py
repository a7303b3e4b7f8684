"""The Carrier protocol: what numberdesk needs from a carrier, and nothing more.

Real carriers (Twilio, Telnyx) speak HTTP and ignore ``session``; the embedded
sandbox keeps its books in the same database, inside the caller's transaction,
so an order and the number it creates commit or roll back together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, NamedTuple, Protocol

from sqlalchemy.orm import Session

from numberdesk.kit.phone import destination_code_cached, national_format_valid

COUNTRIES: tuple[str, ...] = ("US", "CA", "GB")
TYPES: tuple[str, ...] = ("local", "mobile", "toll_free")
CAPABILITIES: tuple[str, ...] = ("voice", "sms", "mms")

_KEYPAD = {
    **dict.fromkeys("ABC", "2"), **dict.fromkeys("DEF", "3"), **dict.fromkeys("GHI", "4"),
    **dict.fromkeys("JKL", "5"), **dict.fromkeys("MNO", "6"), **dict.fromkeys("PQRS", "7"),
    **dict.fromkeys("TUV", "8"), **dict.fromkeys("WXYZ", "9"),
}


def keypad_digits(pattern: str) -> str:
    """Map a search pattern to keypad digits: ``"CALL" -> "2255"``.

    Digits and ``*`` (any one digit) are kept, letters (any case) become their
    keypad digit; anything else raises ``ValueError``.
    """
    out = []
    for ch in pattern:
        if "0" <= ch <= "9" or ch == "*":
            out.append(ch)
        else:
            digit = _KEYPAD.get(ch.upper()) if ch.isascii() else None
            if digit is None:
                raise ValueError(f"invalid character {ch!r} in pattern {pattern!r}: "
                                 "use digits, letters and * (any one digit)")
            out.append(digit)
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Listing:
    """A number a carrier offers for sale."""

    phone_number: str  # E.164
    country: str  # "US" | "CA" | "GB"
    type: str  # "local" | "toll_free" | "mobile"
    voice: bool
    sms: bool
    mms: bool
    locality: str | None
    region: str | None
    monthly_price_minor: int
    setup_price_minor: int
    currency: str

    @property
    def national_format(self) -> str:
        return national_format_valid(self.phone_number)

    @property
    def area_code(self) -> str | None:
        return destination_code_cached(self.phone_number)

    @property
    def capabilities(self) -> frozenset[str]:
        return frozenset(name for name, on in zip(CAPABILITIES, (self.voice, self.sms, self.mms), strict=True) if on)

OrderState = Literal["pending", "active", "failed"]


@dataclass(frozen=True)
class OrderOutcome:
    """What the carrier says of an order now: its state and, when it failed, why (in the
    carrier's words), so a failed purchase can be shown to the person who made it."""

    state: OrderState
    reason: str | None = None

#: Given E.164 numbers, those that numberdesk itself knows to be taken (held by an account):
#: the caller's side of "never offer a held number", so no adapter reads numberdesk's tables.
Exclude = Callable[[list[str]], set[str]]


@dataclass(frozen=True)
class SearchQuery:
    country: str | None = None
    type: str | None = None
    area_code: str | None = None
    prefix: str | None = None
    contains: str | None = None
    capabilities: frozenset[str] = frozenset()
    locality: str | None = None
    limit: int = 20


@dataclass(frozen=True)
class Order:
    ref: str                       # the carrier's id for the order / number
    ready_at: dt.datetime | None   # when to ask again whether it is provisioned


class Holding(NamedTuple):
    """A number the carrier holds for this deployment (in service or kept on hold)."""

    ref: str                              # the carrier's id, as ``Order.ref`` gave it
    phone_number: str                     # E.164
    since: dt.datetime | None = None      # when the carrier acquired it; None when it does not say


class Carrier(Protocol):
    name: str

    def search(self, session: Session, query: SearchQuery, now: dt.datetime, *,
               exclude: Exclude | None = None) -> list[Listing]:
        """Numbers for sale now; never one that anybody holds (nor one ``exclude`` names)."""

    def lookup(self, session: Session, phone_number: str, now: dt.datetime, *,
               exclude: Exclude | None = None) -> Listing | None:
        """The listing of a number for sale now, or None (sold, ageing, unknown, excluded)."""

    def order(self, session: Session, listing: Listing, now: dt.datetime) -> Order:
        """Buy the number; raises NumberUnavailable or CarrierError."""

    def order_status(self, session: Session, ref: str, now: dt.datetime) -> OrderOutcome:
        """The order's state; raises CarrierBusy (with the carrier's Retry-After) on 429."""

    def configuration_ok(self, session: Session, ref: str) -> bool:
        """False when the carrier reports the number misconfigured."""

    def holds(self, session: Session, ref: str) -> bool:
        """True while the carrier still holds the number for us (released or not)."""

    def release(self, session: Session, ref: str, now: dt.datetime) -> None:
        """Stop service (cancel a pending order); the number stays on hold for us."""

    def reactivate(self, session: Session, ref: str, now: dt.datetime) -> Order:
        """Resume service of a released number we still hold."""

    def return_number(self, session: Session, ref: str, phone_number: str, now: dt.datetime) -> None:
        """Give the number back to the carrier for good (reclaim window over)."""

    def similar(self, session: Session, phone_number: str, now: dt.datetime, limit: int = 5, *,
                exclude: Exclude | None = None) -> list[Listing]:
        """Numbers for sale like this one (same area code first)."""

    def holdings(self, session: Session, phone_number: str | None = None) -> list[Holding]:
        """Every number the carrier holds for us, released ones included (only ``phone_number``'s when given)."""

    def adopt(self, session: Session, holding: Holding, now: dt.datetime) -> tuple[Listing, Order] | None:
        """The listing and order of a number the carrier holds for us that no row of ours
        knows (a purchase crashed after the carrier's answer), so a retry takes it over
        instead of ordering again; None when the carrier cannot describe it."""
