"""The Twilio carrier, through Twilio's official Python SDK.

What it calls (Twilio REST API 2010-04-01 and Pricing v1):

* search / lookup / similar: ``GET /Accounts/{sid}/AvailablePhoneNumbers/{Country}/
  Local|Mobile|TollFree.json`` (``AreaCode``, ``Contains``, ``InLocality``,
  ``VoiceEnabled``/``SmsEnabled``/``MmsEnabled``, ``PageSize``). ``Contains`` takes
  digits, letters and ``*`` itself but matches anywhere in the number, country code
  included; a prefix is sent as its national digits. Every result is checked
  against the whole query before it is offered.
* prices: ``GET https://pricing.twilio.com/v1/PhoneNumbers/Countries/{ISO}``
  (``phone_number_prices[].number_type/current_price``, ``price_unit``), cached per
  country for an hour, turned into integer minor units with ``Decimal``.
* order: ``POST /IncomingPhoneNumbers.json`` (``PhoneNumber``, ``VoiceUrl`` =
  PUBLIC_URL/webhooks/twilio/voice, ``StatusCallback`` = PUBLIC_URL/webhooks/twilio/status).
  The ref is the number's ``PN…`` sid. Twilio numbers work at once, so an order is
  due immediately and the next provisioning pass marks it active.
* configuration, holds, reactivation, adoption: ``GET /IncomingPhoneNumbers/{sid}.json``
  (configured when its ``voice_url`` is ours).
* return: ``DELETE /IncomingPhoneNumbers/{sid}.json``; holdings:
  ``GET /IncomingPhoneNumbers.json``.

Releasing keeps the number at Twilio for the whole reclaim window (our voice
webhook answers "not in service" for a released number), so it can be
reactivated; Twilio bills it until the window ends and the worker deletes it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from sqlalchemy.orm import Session
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from numberdesk.errors import CarrierError, NumberdeskError, NumberUnavailable
from numberdesk.providers.base import Exclude, Holding, Listing, Order, OrderOutcome, SearchQuery
from numberdesk.providers.common import (
    CarrierSearch,
    describe,
    matches,
    minor_units,
    nanp,
    national_digits,
    prefix_national,
    similar_via,
)

PRICE_TTL_SECONDS = 3600.0
TIMEOUT_SECONDS = 15.0
# Twilio error codes that mean "somebody else has it / it is not for sale".
UNAVAILABLE_CODES = frozenset({21422, 21452})
# Pricing's number types → ours.
_PRICE_TYPES = {"local": "local", "mobile": "mobile", "toll free": "toll_free", "toll_free": "toll_free"}
_TWILIO_HOST = re.compile(r"^https://(?:[A-Za-z0-9-]+\.)*twilio\.com")


class HostRewritingHttpClient(TwilioHttpClient):
    """Sends the SDK's requests for ``https://*.twilio.com`` to another base URL
    (a proxy, or a test double); paths stay as Twilio documents them."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def rewrite(self, url: str) -> str:
        return _TWILIO_HOST.sub(self.base_url, url, count=1)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def,override]
        return super().request(method, self.rewrite(url), *args, **kwargs)


def _message(e: Exception) -> str:
    """The carrier's own words for a failed call."""
    if isinstance(e, TwilioRestException):
        return str(e.msg or f"HTTP {e.status}").removeprefix("Unable to create record: ").removeprefix(
            "Unable to fetch record: ").removeprefix("Unable to delete record: ").removeprefix(
            "Unable to update record: ")
    for attr in ("detail", "title"):
        value = getattr(e, attr, None)
        if value:
            return str(value)
    # A list page that failed: the SDK hands over the raw response.
    if len(e.args) > 1 and hasattr(e.args[1], "text"):
        try:
            body = json.loads(e.args[1].text)
            return str(body.get("message") or body.get("detail") or e.args[0])
        except (ValueError, AttributeError):
            pass
    return str(e.args[0]) if e.args else e.__class__.__name__


def _code(e: Exception) -> int | None:
    code = getattr(e, "code", None)
    if code is None and len(e.args) > 1 and hasattr(e.args[1], "text"):
        try:
            code = json.loads(e.args[1].text).get("code")
        except (ValueError, AttributeError):
            return None
    try:
        return int(code) if code is not None else None
    except (TypeError, ValueError):
        return None


def _status(e: Exception) -> int | None:
    status = getattr(e, "status", None)
    if status is None and len(e.args) > 1:
        status = getattr(e.args[1], "status_code", None)
    return int(status) if status is not None else None


def map_error(e: Exception, phone_number: str | None = None) -> NumberdeskError:
    """Twilio's error as ours: "not available" → NumberUnavailable, anything else → CarrierError."""
    code, text = _code(e), _message(e)
    if code in UNAVAILABLE_CODES:
        what = phone_number or "The number"
        return NumberUnavailable(f"{what} is not available at Twilio: {text}")
    suffix = f" (Twilio error {code})" if code is not None else ""
    return CarrierError(f"Twilio refused or failed: {text}{suffix}")


class TwilioCarrier(CarrierSearch):
    name = "twilio"

    def __init__(
        self, *, account_sid: str, auth_token: str, public_url: str, api_base_url: str | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        http_client = (HostRewritingHttpClient(api_base_url, timeout=timeout) if api_base_url
                       else TwilioHttpClient(timeout=timeout))
        self.client = Client(account_sid, auth_token, http_client=http_client)
        self.voice_url = f"{public_url.rstrip('/')}/webhooks/twilio/voice"
        self.status_url = f"{public_url.rstrip('/')}/webhooks/twilio/status"
        self._prices: dict[str, tuple[float, str, dict[str, int]]] = {}
        self._lock = threading.Lock()

    # -- talking to Twilio -----------------------------------------------------
    @contextmanager
    def _calls(self, phone_number: str | None = None) -> Iterator[None]:
        try:
            yield
        except TwilioException as e:
            raise map_error(e, phone_number) from None
        except requests.RequestException as e:
            raise CarrierError(f"Twilio could not be reached ({e.__class__.__name__}).") from None

    def _incoming(self, ref: str):  # type: ignore[no-untyped-def]
        """The incoming number ``ref``, or None when Twilio no longer has it."""
        with self._calls():
            try:
                return self.client.incoming_phone_numbers(ref).fetch()
            except TwilioRestException as e:
                if e.status == 404:
                    return None
                raise

    def _price_table(self, country: str) -> tuple[str, dict[str, int]]:
        """(currency, our type → monthly price in minor units) for ``country``, cached for an hour."""
        now = time.monotonic()
        with self._lock:
            cached = self._prices.get(country)
        if cached is not None and now - cached[0] < PRICE_TTL_SECONDS:
            return cached[1], cached[2]
        with self._calls():
            record = self.client.pricing.v1.phone_numbers.countries(country).fetch()
        currency = str(record.price_unit or "USD").upper()
        table: dict[str, int] = {}
        for price in record.phone_number_prices or []:
            ours = _PRICE_TYPES.get(str(price.get("number_type", "")).strip().lower())
            amount = price.get("current_price") or price.get("base_price")
            if ours is not None and amount not in (None, ""):
                table[ours] = minor_units(amount, currency)
        with self._lock:
            self._prices[country] = (now, currency, table)
        return currency, table

    def _price(self, country: str, type_: str) -> tuple[str, int]:
        currency, table = self._price_table(country)
        if type_ not in table:
            raise CarrierError(f"Twilio's pricing lists no {type_.replace('_', ' ')} price for {country}.")
        return currency, table[type_]

    def _listing(self, found: Any, country: str, type_: str) -> Listing:
        currency, price = self._price(country, type_)
        caps = {str(k).lower(): bool(v) for k, v in (found.capabilities or {}).items()}
        return Listing(
            phone_number=found.phone_number, country=str(found.iso_country or country).upper(), type=type_,
            voice=caps.get("voice", False), sms=caps.get("sms", False), mms=caps.get("mms", False),
            locality=found.locality or None, region=found.region or None,
            monthly_price_minor=price, setup_price_minor=0, currency=currency,
        )

    def _search_one(self, country: str, type_: str, query: SearchQuery, want: int) -> list[Listing]:
        national = prefix_national(query, country)
        if national is None:
            return []  # the prefix names another country
        code = national_digits(query.area_code, country) if query.area_code and query.area_code.strip() else ""
        params: dict[str, Any] = {}
        if nanp(country) and code:
            params["area_code"] = code
        elif nanp(country) and len(national) >= 3:
            params["area_code"] = national[:3]
        contains = (query.contains or "").strip()
        if len(contains) >= 2:
            params["contains"] = contains        # Twilio reads letters and * itself
        elif len(national) >= 2:
            params["contains"] = national        # anchored below
        elif len(code) >= 2:
            params["contains"] = code            # outside NANP there is no AreaCode filter
        if query.locality and query.locality.strip():
            params["in_locality"] = query.locality.strip()
        for cap in sorted(query.capabilities):
            params[f"{cap}_enabled"] = True
        resource = getattr(self.client.available_phone_numbers(country), type_)
        with self._calls():
            found = resource.list(limit=min(50, max(20, want * 2)), **params)
        out: list[Listing] = []
        for item in found:
            listing = self._listing(item, country, type_)
            if matches(listing, query):
                out.append(listing)
                if len(out) >= want:
                    break
        return out

    def _point_at_us(self, incoming: Any) -> None:
        """Make sure calls to the number reach our webhook (after adoption or reactivation)."""
        if incoming.voice_url != self.voice_url or incoming.status_callback != self.status_url:
            with self._calls(incoming.phone_number):
                self.client.incoming_phone_numbers(incoming.sid).update(
                    voice_url=self.voice_url, voice_method="POST",
                    status_callback=self.status_url, status_callback_method="POST")

    # -- Carrier protocol ----------------------------------------------------
    def order(self, session: Session, listing: Listing, now: dt.datetime) -> Order:
        with self._calls(listing.phone_number):
            incoming = self.client.incoming_phone_numbers.create(
                phone_number=listing.phone_number, voice_url=self.voice_url, voice_method="POST",
                status_callback=self.status_url, status_callback_method="POST")
        # In service at once: due now, so the next provisioning pass marks it active.
        return Order(ref=incoming.sid, ready_at=now)

    def order_status(self, session: Session, ref: str, now: dt.datetime) -> OrderOutcome:
        if self._incoming(ref) is not None:
            return OrderOutcome("active")
        return OrderOutcome("failed", "Twilio no longer lists this number on the account.")

    def configuration_ok(self, session: Session, ref: str) -> bool:
        incoming = self._incoming(ref)
        return incoming is not None and incoming.voice_url == self.voice_url

    def holds(self, session: Session, ref: str) -> bool:
        return self._incoming(ref) is not None

    def release(self, session: Session, ref: str, now: dt.datetime) -> None:
        """Nothing to tell Twilio: the number stays ours (and billed) for the reclaim
        window, and our voice webhook already answers "not in service" for it."""

    def reactivate(self, session: Session, ref: str, now: dt.datetime) -> Order:
        incoming = self._incoming(ref)
        if incoming is None:
            raise NumberUnavailable("The carrier no longer holds this number.")
        self._point_at_us(incoming)
        return Order(ref=ref, ready_at=None)

    def return_number(self, session: Session, ref: str, phone_number: str, now: dt.datetime) -> None:
        with self._calls(phone_number):
            try:
                self.client.incoming_phone_numbers(ref).delete()
            except TwilioRestException as e:
                if e.status != 404:
                    raise
                # Already gone (a retried sweep, or deleted at Twilio): nothing left to return.

    def similar(self, session: Session, phone_number: str, now: dt.datetime, limit: int = 5, *,
                exclude: Exclude | None = None) -> list[Listing]:
        return similar_via(lambda q: self.search(session, q, now, exclude=exclude), phone_number, limit)

    def holdings(self, session: Session, phone_number: str | None = None) -> list[Holding]:
        params = {"phone_number": phone_number} if phone_number else {}
        with self._calls():
            numbers = self.client.incoming_phone_numbers.list(page_size=1000, **params)
        return [Holding(n.sid, n.phone_number, n.date_created) for n in numbers
                if phone_number is None or n.phone_number == phone_number]

    def adopt(self, session: Session, holding: Holding, now: dt.datetime) -> tuple[Listing, Order] | None:
        incoming = self._incoming(holding.ref)
        if incoming is None or incoming.phone_number != holding.phone_number:
            return None
        country, type_, locality, region = describe(incoming.phone_number)
        if not country:
            return None
        currency, price = self._price(country, type_)
        caps = {str(k).lower(): bool(v) for k, v in (incoming.capabilities or {}).items()}
        listing = Listing(
            phone_number=incoming.phone_number, country=country, type=type_, voice=caps.get("voice", True),
            sms=caps.get("sms", False), mms=caps.get("mms", False), locality=locality, region=region,
            monthly_price_minor=price, setup_price_minor=0, currency=currency)
        self._point_at_us(incoming)
        # In service since Twilio created it; the provisioning pass records that moment.
        since = incoming.date_created or now
        return listing, Order(ref=incoming.sid, ready_at=min(since, now))
