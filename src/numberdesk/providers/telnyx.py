"""The Telnyx carrier, over Telnyx API v2 with httpx (``Authorization: Bearer`` the API key).

Documented endpoints it uses (base ``https://api.telnyx.com/v2``):

* ``GET /available_phone_numbers`` — search, lookup, similar, and pricing an adopted
  number: ``filter[country_code]``, ``filter[phone_number_type]`` (local, mobile,
  toll_free), ``filter[national_destination_code]`` (NANP area code),
  ``filter[phone_number][starts_with]`` / ``[contains]`` (digits only: Telnyx has
  no wildcards, so letters are turned into keypad digits and only the longest
  literal run is sent), ``filter[locality]``, ``filter[features][]``,
  ``filter[limit]``; prices from ``cost_information.monthly_cost`` /
  ``upfront_cost`` / ``currency``. Every result is checked against the whole query.
* ``POST /number_orders`` ``{"phone_numbers": [{"phone_number": …}]}`` — order; the
  ref is the number order's ``id``. ``GET /number_orders/{id}`` — its ``status``
  (pending → pending, success → active, failure → failed), polled every 60 s.
* ``GET /number_orders`` — which order bought each number (holdings report refs as
  order ids).
* ``GET /phone_numbers`` (``filter[phone_number]``, ``page[number]``,
  ``page[size]``) — holdings, holds, configuration (a number is configured while
  its ``status`` is ``active``).
* ``DELETE /phone_numbers/{id}`` — return a number for good.

Releasing keeps the number at Telnyx for the whole reclaim window (our webhook
answers "not in service" for a released number); Telnyx bills it until the
window ends and the worker deletes it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import httpx
from sqlalchemy.orm import Session

from numberdesk.errors import CarrierError, NumberdeskError, NumberUnavailable
from numberdesk.providers.base import (
    Exclude,
    Holding,
    Listing,
    Order,
    OrderOutcome,
    OrderState,
    SearchQuery,
    keypad_digits,
)
from numberdesk.providers.common import (
    TYPES,
    CarrierSearch,
    area_code_of,
    describe,
    matches,
    minor_units,
    nanp,
    national_digits,
    parse_time,
    prefix_national,
    similar_via,
)

API_BASE = "https://api.telnyx.com"
POLL = dt.timedelta(seconds=60)
TIMEOUT_SECONDS = 15.0
PAGE_SIZE = 250
MAX_PAGES = 400
# Phone number statuses that mean Telnyx no longer holds the number for us.
_GONE = frozenset({"deleted", "purchase_failed", "port_failed", "ported_out"})
_ORDER_STATES: dict[str, OrderState] = {"pending": "pending", "success": "active", "failure": "failed"}
_UNAVAILABLE_WORDS = ("not available", "unavailable", "no longer available", "already been", "already taken",
                      "not found in inventory")


def _norm(value: object) -> str:
    return str(value or "").strip().lower().replace("-", "_")


class TelnyxCarrier(CarrierSearch):
    name = "telnyx"

    def __init__(self, *, api_key: str, api_base_url: str | None = None, timeout: float = TIMEOUT_SECONDS) -> None:
        self.http = httpx.Client(
            base_url=f"{(api_base_url or API_BASE).rstrip('/')}/v2",
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=timeout,
        )

    # -- talking to Telnyx -------------------------------------------------------
    def _call(self, method: str, path: str, *, params: Any = None, json: Any = None,
              phone_number: str | None = None, missing_ok: bool = False) -> dict[str, Any] | None:
        try:
            r = self.http.request(method, path, params=params, json=json)
        except httpx.HTTPError as e:
            raise CarrierError(f"Telnyx could not be reached ({e.__class__.__name__}).") from None
        if r.status_code == 404 and missing_ok:
            return None
        if r.status_code >= 400:
            raise self._error(r, phone_number)
        if not r.content:
            return {}
        try:
            body = r.json()
        except ValueError:
            raise CarrierError("Telnyx answered with something that is not JSON.") from None
        return body if isinstance(body, dict) else {}

    @staticmethod
    def _error(r: httpx.Response, phone_number: str | None) -> NumberdeskError:
        """Telnyx's ``{"errors": [{code, title, detail}]}`` as ours."""
        try:
            errors = r.json().get("errors") or []
        except (ValueError, AttributeError):
            errors = []
        texts = [str(e.get("detail") or e.get("title") or "") for e in errors if isinstance(e, dict)]
        text = "; ".join(t for t in texts if t) or f"HTTP {r.status_code}"
        if phone_number and r.status_code in (400, 404, 409, 422) and any(
                w in text.lower() for w in _UNAVAILABLE_WORDS):
            return NumberUnavailable(f"{phone_number} is not available at Telnyx: {text}")
        codes = ", ".join(str(e.get("code")) for e in errors if isinstance(e, dict) and e.get("code"))
        suffix = f" (Telnyx error {codes})" if codes else f" (HTTP {r.status_code})"
        return CarrierError(f"Telnyx refused or failed: {text}{suffix}")

    def _pages(self, path: str, params: list[tuple[str, Any]]) -> Iterator[dict[str, Any]]:
        for page in range(1, MAX_PAGES + 1):
            body = self._call("GET", path, params=[*params, ("page[number]", page), ("page[size]", PAGE_SIZE)]) or {}
            yield from (x for x in body.get("data") or [] if isinstance(x, dict))
            if page >= int((body.get("meta") or {}).get("total_pages") or 1):
                return

    def _order(self, ref: str) -> dict[str, Any] | None:
        body = self._call("GET", f"/number_orders/{ref}", missing_ok=True)
        return (body or {}).get("data") if body is not None else None

    @staticmethod
    def _order_number(order: dict[str, Any]) -> str | None:
        numbers = order.get("phone_numbers") or []
        return numbers[0].get("phone_number") if numbers and isinstance(numbers[0], dict) else None

    def _records(self, phone_number: str | None = None) -> list[dict[str, Any]]:
        """Phone numbers Telnyx holds for us (only ``phone_number``'s when given)."""
        params: list[tuple[str, Any]] = []
        if phone_number:
            # Telnyx matches digits only; anything else finds nothing.
            params.append(("filter[phone_number]", re.sub(r"\D", "", phone_number)))
        return [r for r in self._pages("/phone_numbers", params)
                if _norm(r.get("status")) not in _GONE
                and (phone_number is None or r.get("phone_number") == phone_number)]

    def _record(self, phone_number: str | None) -> dict[str, Any] | None:
        if not phone_number:
            return None
        found = self._records(phone_number)
        return found[0] if found else None

    def _order_refs(self, wanted: set[str]) -> dict[str, str]:
        """The newest successful or pending number order of each wanted number."""
        best: dict[str, tuple[str, str]] = {}
        for order in self._pages("/number_orders", []):
            if _norm(order.get("status")) == "failure" or not order.get("id"):
                continue
            created = str(order.get("created_at") or "")
            for item in order.get("phone_numbers") or []:
                e164 = item.get("phone_number") if isinstance(item, dict) else None
                if e164 in wanted and (e164 not in best or created > best[e164][0]):
                    best[e164] = (created, str(order["id"]))
        return {k: v[1] for k, v in best.items()}

    def _listing(self, item: dict[str, Any], country: str, type_: str) -> Listing:
        cost = item.get("cost_information") or {}
        currency = str(cost.get("currency") or "USD").upper()
        regions = {r.get("region_type"): r.get("region_name") for r in item.get("region_information") or []
                   if isinstance(r, dict)}
        features = {_norm(f.get("name") if isinstance(f, dict) else f) for f in item.get("features") or []}
        rate_center = regions.get("rate_center")
        return Listing(
            phone_number=str(item.get("phone_number")), country=str(regions.get("country_code") or country).upper(),
            type=type_, voice="voice" in features, sms="sms" in features, mms="mms" in features,
            locality=regions.get("location") or (str(rate_center).title() if rate_center else None),
            region=regions.get("state") or None,
            monthly_price_minor=minor_units(cost.get("monthly_cost"), currency),
            setup_price_minor=minor_units(cost.get("upfront_cost"), currency), currency=currency,
        )

    def _search_one(self, country: str, type_: str, query: SearchQuery, want: int) -> list[Listing]:
        national = prefix_national(query, country)
        if national is None:
            return []  # the prefix names another country
        code = national_digits(query.area_code, country) if query.area_code and query.area_code.strip() else ""
        params: list[tuple[str, Any]] = [("filter[country_code]", country), ("filter[phone_number_type]", type_)]
        starts = national
        if nanp(country):
            ndc = code or (national[:3] if len(national) >= 3 else "")
            if ndc:
                params.append(("filter[national_destination_code]", ndc))
                # Telnyx: starts_with excludes the NDC when both are given.
                starts = national[len(ndc):] if national.startswith(ndc) else ""
        elif not starts:
            starts = code
        if starts:
            params.append(("filter[phone_number][starts_with]", starts))
        if query.contains and query.contains.strip():
            runs = re.findall(r"\d+", keypad_digits(query.contains.strip()))
            if runs:
                params.append(("filter[phone_number][contains]", max(runs, key=len)))
        if query.locality and query.locality.strip():
            params.append(("filter[locality]", query.locality.strip()))
        params.extend(("filter[features][]", cap) for cap in sorted(query.capabilities))
        params.append(("filter[limit]", min(100, max(20, want * 2))))
        body = self._call("GET", "/available_phone_numbers", params=params) or {}
        out: list[Listing] = []
        for item in body.get("data") or []:
            if not isinstance(item, dict) or not item.get("phone_number"):
                continue
            listing = self._listing(item, country, type_)
            if matches(listing, query):
                out.append(listing)
                if len(out) >= want:
                    break
        return out

    # -- Carrier protocol ----------------------------------------------------------
    def order(self, session: Session, listing: Listing, now: dt.datetime) -> Order:
        body = self._call("POST", "/number_orders", json={"phone_numbers": [{"phone_number": listing.phone_number}]},
                          phone_number=listing.phone_number) or {}
        data = body.get("data") or {}
        mine = [p for p in data.get("phone_numbers") or []
                if isinstance(p, dict) and p.get("phone_number") == listing.phone_number]
        if _norm(data.get("status")) == "failure" or (mine and _norm(mine[0].get("status")) == "failure"):
            raise NumberUnavailable(f"{listing.phone_number} is not available at Telnyx: the order failed.")
        if not data.get("id"):
            raise CarrierError("Telnyx accepted the order but sent no order id.")
        done = _norm(data.get("status")) == "success"
        return Order(ref=str(data["id"]), ready_at=now if done else now + POLL)

    def order_status(self, session: Session, ref: str, now: dt.datetime) -> OrderOutcome:
        order = self._order(ref)
        if order is None:
            return OrderOutcome("failed", "Telnyx has no such number order.")
        state = _ORDER_STATES.get(_norm(order.get("status")), "pending")
        return OrderOutcome(state, "Telnyx reported the number order as failed." if state == "failed" else None)

    def configuration_ok(self, session: Session, ref: str) -> bool:
        order = self._order(ref)
        if order is None or _norm(order.get("status")) == "failure":
            return False
        record = self._record(self._order_number(order))
        return record is not None and _norm(record.get("status")) == "active"

    def holds(self, session: Session, ref: str) -> bool:
        order = self._order(ref)
        if order is None or _norm(order.get("status")) == "failure":
            return False
        return self._record(self._order_number(order)) is not None

    def release(self, session: Session, ref: str, now: dt.datetime) -> None:
        """Nothing to tell Telnyx: the number stays ours (and billed) for the reclaim
        window, and our webhook already answers "not in service" for it."""

    def reactivate(self, session: Session, ref: str, now: dt.datetime) -> Order:
        order = self._order(ref)
        record = None
        if order is not None and _norm(order.get("status")) != "failure":
            record = self._record(self._order_number(order))
        if order is None or record is None:
            raise NumberUnavailable("The carrier no longer holds this number.")
        if _norm(order.get("status")) == "success" and _norm(record.get("status")) == "active":
            return Order(ref=ref, ready_at=None)
        return Order(ref=ref, ready_at=now + POLL)

    def return_number(self, session: Session, ref: str, phone_number: str, now: dt.datetime) -> None:
        record = self._record(phone_number)
        if record is None:
            return  # already gone: a retried sweep, or deleted at Telnyx
        self._call("DELETE", f"/phone_numbers/{record['id']}", missing_ok=True)

    def similar(self, session: Session, phone_number: str, now: dt.datetime, limit: int = 5, *,
                exclude: Exclude | None = None) -> list[Listing]:
        return similar_via(lambda q: self.search(session, q, now, exclude=exclude), phone_number, limit)

    def holdings(self, session: Session, phone_number: str | None = None) -> list[Holding]:
        records = self._records(phone_number)
        if not records:
            return []
        refs = self._order_refs({str(r.get("phone_number")) for r in records})
        return [Holding(refs.get(str(r.get("phone_number")), str(r.get("id"))), str(r.get("phone_number")),
                        parse_time(r.get("purchased_at") or r.get("created_at")))
                for r in records]

    def adopt(self, session: Session, holding: Holding, now: dt.datetime) -> tuple[Listing, Order] | None:
        order = self._order(holding.ref)
        if order is None or _norm(order.get("status")) == "failure":
            return None
        record = self._record(holding.phone_number)
        if record is None:
            return None
        e164 = holding.phone_number
        country, guessed, locality, region = describe(e164)
        country = str(record.get("country_iso_alpha2") or country).upper()
        type_ = _norm(record.get("phone_number_type"))
        type_ = type_ if type_ in TYPES else guessed
        # Telnyx does not price a number already bought: a number of the same kind for sale does.
        code = area_code_of(e164) if nanp(country) else None
        probe = (self._search_one(country, type_, SearchQuery(country=country, type=type_, area_code=code, limit=1), 1)
                 or self._search_one(country, type_, SearchQuery(country=country, type=type_, limit=1), 1))
        if not probe:
            return None
        like = probe[0]
        listing = Listing(
            phone_number=e164, country=country, type=type_, voice=like.voice, sms=like.sms, mms=like.mms,
            locality=locality, region=region, monthly_price_minor=like.monthly_price_minor,
            setup_price_minor=like.setup_price_minor, currency=like.currency)
        if _norm(order.get("status")) == "success":
            since = parse_time(record.get("purchased_at") or record.get("created_at")) or now
            return listing, Order(ref=holding.ref, ready_at=min(since, now))
        return listing, Order(ref=holding.ref, ready_at=now + POLL)
