"""Fake Twilio and Telnyx APIs, served over real HTTP on 127.0.0.1 for the adapter tests.

Only the documented endpoints the adapters use, answering JSON shaped as the
carriers document it:

Twilio (REST 2010-04-01, Pricing v1; HTTP Basic with the account sid and token)
    GET  /2010-04-01/Accounts/{sid}/AvailablePhoneNumbers/{CC}/{Local|Mobile|TollFree}.json
    GET  /2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json
    POST /2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json
    GET|POST|DELETE /2010-04-01/Accounts/{sid}/IncomingPhoneNumbers/{PN}.json
    GET  /v1/PhoneNumbers/Countries/{ISO}
Telnyx (API v2; Bearer key)
    GET  /v2/available_phone_numbers
    POST /v2/number_orders, GET /v2/number_orders, GET /v2/number_orders/{id}
    GET  /v2/phone_numbers, DELETE /v2/phone_numbers/{id}

Tests reach into the state (``FakeCarriers.twilio`` / ``.telnyx``) to mark a number
taken, break a configuration, complete Telnyx orders, or read what was called.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import itertools
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

TWILIO_SID = "AC" + "0123456789abcdef" * 2
TWILIO_TOKEN = "fake-twilio-token"
TELNYX_KEY = "KEYfake0123456789"
_KEYPAD = {c: d for d, letters in {"2": "ABC", "3": "DEF", "4": "GHI", "5": "JKL", "6": "MNO",
                                    "7": "PQRS", "8": "TUV", "9": "WXYZ"}.items() for c in letters}


@dataclass
class Stock:
    """A number either carrier can sell."""

    phone_number: str
    country: str
    type: str              # local | mobile | toll_free
    locality: str | None
    region: str | None
    voice: bool = True
    sms: bool = True
    mms: bool = False

    @property
    def national(self) -> str:
        cc = "1" if self.phone_number.startswith("+1") else "44"
        return self.phone_number[1 + len(cc):]


STOCK = [
    Stock("+14152011000", "US", "local", "San Francisco", "CA", mms=True),
    Stock("+14152012255", "US", "local", "San Francisco", "CA"),           # ...CALL
    Stock("+14152019876", "US", "local", "San Francisco", "CA", sms=False),
    Stock("+14155552255", "US", "local", "San Francisco", "CA", mms=True),  # ...CALL
    Stock("+12124154321", "US", "local", "New York", "NY"),                 # 415 inside, not a 415 number
    Stock("+13122012255", "US", "local", "Chicago", "IL"),                  # ...CALL
    Stock("+13125551234", "US", "local", "Chicago", "IL", mms=True),
    Stock("+18883421234", "US", "toll_free", None, None),
    Stock("+18776541234", "US", "toll_free", None, None),
    Stock("+16042211234", "CA", "local", "Vancouver", "BC"),
    Stock("+442079460000", "GB", "local", "London", None, sms=False),
    Stock("+441612345678", "GB", "local", "Manchester", None, sms=False),
    Stock("+441612072000", "GB", "local", "Manchester", None, sms=False),     # 20 inside, not a 020 number
    Stock("+447400123456", "GB", "mobile", None, None, mms=True),
    Stock("+448081570001", "GB", "toll_free", None, None, sms=False),
]

# Twilio Pricing: strings, as Twilio sends them ("1.15" is the classic float trap).
TWILIO_PRICES = {
    "US": ("USD", [("local", "1.15"), ("toll free", "2.15"), ("mobile", "1.30")]),
    "CA": ("USD", [("local", "1.15"), ("toll free", "2.15")]),
    "GB": ("USD", [("local", "1.00"), ("mobile", "4.50"), ("toll free", "15.00")]),
}
# Telnyx cost_information per (country, type): (monthly, upfront, currency).
TELNYX_COSTS = {
    ("US", "local"): ("1.00", "1.00", "USD"), ("US", "toll_free"): ("2.15", "0.00", "USD"),
    ("US", "mobile"): ("1.30", "0.00", "USD"), ("CA", "local"): ("1.15", "1.00", "USD"),
    ("GB", "local"): ("0.95", "0.00", "GBP"), ("GB", "mobile"): ("4.50", "2.00", "GBP"),
    ("GB", "toll_free"): ("15.00", "5.00", "GBP"),
}


def _rfc2822(t: dt.datetime) -> str:
    return email.utils.format_datetime(t.astimezone(dt.UTC), usegmt=False).replace("-0000", "+0000")


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def twilio_pattern(pattern: str) -> re.Pattern[str]:
    """Twilio's Contains: digits and letters (keypad), ``*`` one character, ``%`` any
    run, a leading ``+`` anchors the start and a trailing ``$`` the end; matched
    against the whole number, country code included."""
    start = pattern.startswith("+")
    end = pattern.endswith("$")
    body = pattern[1 if start else 0: -1 if end else None]
    rx = "".join(r"\d" if c == "*" else r"\d*" if c == "%" else _KEYPAD.get(c.upper(), c) for c in body)
    return re.compile(("^" if start else "") + rx + ("$" if end else ""))


@dataclass
class FakeTwilio:
    taken: set[str] = field(default_factory=set)            # listed, but buying it fails (21422)
    owned: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    pricing_calls: int = 0
    fail_next: int | None = None                            # answer the next call with this HTTP status

    def owned_numbers(self) -> set[str]:
        return {x["phone_number"] for x in self.owned.values()}

    def buy(self, phone_number: str, voice_url: str | None = None) -> str:
        """Put a number on the account directly (as if bought in Twilio's console)."""
        stock = next(s for s in STOCK if s.phone_number == phone_number)
        sid = "PN" + uuid.uuid4().hex
        self.owned[sid] = _incoming(sid, stock, voice_url, None, _now())
        return sid


def _incoming(sid: str, stock: Stock, voice_url: str | None, status_callback: str | None,
              created: dt.datetime) -> dict[str, Any]:
    return {
        "sid": sid, "account_sid": TWILIO_SID, "friendly_name": stock.phone_number,
        "phone_number": stock.phone_number, "voice_url": voice_url, "voice_method": "POST",
        "status_callback": status_callback, "status_callback_method": "POST",
        "date_created": _rfc2822(created), "date_updated": _rfc2822(created), "api_version": "2010-04-01",
        "capabilities": {"voice": stock.voice, "sms": stock.sms, "mms": stock.mms, "fax": False},
        "status": "in-use", "origin": "twilio", "beta": False,
        "uri": f"/2010-04-01/Accounts/{TWILIO_SID}/IncomingPhoneNumbers/{sid}.json",
    }


@dataclass
class FakeTelnyx:
    taken: set[str] = field(default_factory=set)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    numbers: dict[str, dict[str, Any]] = field(default_factory=dict)  # phone number id → record
    calls: list[tuple[str, str, list[tuple[str, str]]]] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1293384261075731000))

    def held(self) -> set[str]:
        return {r["phone_number"] for r in self.numbers.values()}

    def complete(self, order_id: str | None = None, status: str = "success") -> None:
        """Finish pending orders (all, or one) as Telnyx would once provisioned."""
        for oid, order in self.orders.items():
            if (order_id is not None and oid != order_id) or order["status"] != "pending":
                continue
            order["status"] = status
            for p in order["phone_numbers"]:
                p["status"] = status
                for rid, rec in list(self.numbers.items()):
                    if rec["phone_number"] == p["phone_number"]:
                        if status == "success":
                            rec["status"] = "active"
                        else:
                            del self.numbers[rid]


class FakeCarriers:
    """Both fake APIs in one app (their paths do not overlap), with their state."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.twilio = FakeTwilio()
        self.telnyx = FakeTelnyx()
        self.app = self._build()
        self.url = ""

    def reset(self) -> None:
        with self.lock:
            self.twilio = FakeTwilio()
            self.telnyx = FakeTelnyx()

    # -- the app ------------------------------------------------------------------------
    def _build(self) -> FastAPI:
        app = FastAPI()
        root = f"/2010-04-01/Accounts/{TWILIO_SID}"

        def twilio_error(status: int, code: int, message: str) -> JSONResponse:
            return JSONResponse({"code": code, "message": message,
                                 "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status},
                                status_code=status)

        def twilio_auth(request: Request) -> JSONResponse | None:
            expected = "Basic " + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
            if request.headers.get("authorization") != expected:
                return twilio_error(401, 20003, "Authenticate")
            tw = self.twilio
            if tw.fail_next is not None:
                status, tw.fail_next = tw.fail_next, None
                return twilio_error(status, 20500, "An internal server error has occurred")
            return None

        def stock_of(country: str, kind: str) -> list[Stock]:
            owned = self.twilio.owned_numbers()
            return [s for s in STOCK if s.country == country and s.type == kind and s.phone_number not in owned]

        @app.get(root + "/AvailablePhoneNumbers/{country}/{kind}.json")
        def twilio_available(country: str, kind: str, request: Request) -> Response:
            if (bad := twilio_auth(request)) is not None:
                return bad
            q = request.query_params
            with self.lock:
                self.twilio.calls.append(("GET", f"AvailablePhoneNumbers/{country}/{kind}", dict(q)))
                ours = {"Local": "local", "Mobile": "mobile", "TollFree": "toll_free"}.get(kind)
                if ours is None:
                    return twilio_error(404, 20404, "The requested resource was not found")
                found = stock_of(country, ours)
            if q.get("AreaCode"):
                found = [s for s in found if s.country in ("US", "CA") and s.national.startswith(q["AreaCode"])]
            if q.get("Contains"):
                rx = twilio_pattern(q["Contains"])
                found = [s for s in found if rx.search(s.phone_number[1:])]
            if q.get("InLocality"):
                found = [s for s in found if (s.locality or "").lower() == q["InLocality"].lower()]
            for cap in ("Voice", "Sms", "Mms"):
                if q.get(f"{cap}Enabled") == "true":
                    found = [s for s in found if getattr(s, cap.lower())]
            found = found[: int(q.get("PageSize", 50))]
            data = [{
                "friendly_name": s.phone_number, "phone_number": s.phone_number, "lata": None,
                "locality": s.locality, "rate_center": (s.locality or "").upper() or None,
                "latitude": None, "longitude": None, "region": s.region, "postal_code": None,
                "iso_country": s.country, "address_requirements": "none", "beta": False,
                "capabilities": {"voice": s.voice, "SMS": s.sms, "MMS": s.mms, "fax": False},
            } for s in found]
            return JSONResponse({"available_phone_numbers": data,
                                 "uri": f"{root}/AvailablePhoneNumbers/{country}/{kind}.json"})

        @app.get(root + "/IncomingPhoneNumbers.json")
        def twilio_incoming_list(request: Request) -> Response:
            if (bad := twilio_auth(request)) is not None:
                return bad
            q = request.query_params
            with self.lock:
                self.twilio.calls.append(("GET", "IncomingPhoneNumbers", dict(q)))
                rows = sorted(self.twilio.owned.values(), key=lambda x: x["sid"])
            if q.get("PhoneNumber"):
                digits = re.sub(r"\D", "", q["PhoneNumber"])
                rows = [r for r in rows if digits in r["phone_number"]]
            size, page = int(q.get("PageSize", 50)), int(q.get("Page", 0))
            chunk = rows[page * size:(page + 1) * size]
            more = (page + 1) * size < len(rows)
            base = f"{root}/IncomingPhoneNumbers.json?PageSize={size}"
            return JSONResponse({
                "incoming_phone_numbers": chunk, "start": page * size, "end": page * size + len(chunk) - 1,
                "page": page, "page_size": size, "uri": f"{base}&Page={page}",
                "first_page_uri": f"{base}&Page=0", "previous_page_uri": f"{base}&Page={page - 1}" if page else None,
                "next_page_uri": f"{base}&Page={page + 1}" if more else None})

        @app.post(root + "/IncomingPhoneNumbers.json")
        async def twilio_incoming_create(request: Request) -> Response:
            if (bad := twilio_auth(request)) is not None:
                return bad
            form = dict(await request.form())
            with self.lock:
                self.twilio.calls.append(("POST", "IncomingPhoneNumbers", {k: str(v) for k, v in form.items()}))
                e164 = str(form.get("PhoneNumber", ""))
                stock = next((s for s in STOCK if s.phone_number == e164), None)
                if stock is None or e164 in self.twilio.taken or e164 in self.twilio.owned_numbers():
                    return twilio_error(400, 21422, "PhoneNumber requested is not available")
                sid = "PN" + uuid.uuid4().hex
                self.twilio.owned[sid] = _incoming(sid, stock, form.get("VoiceUrl"), form.get("StatusCallback"),
                                                   _now())
                return JSONResponse(self.twilio.owned[sid], status_code=201)

        @app.api_route(root + "/IncomingPhoneNumbers/{sid}.json", methods=["GET", "POST", "DELETE"])
        async def twilio_incoming_one(sid: str, request: Request) -> Response:
            if (bad := twilio_auth(request)) is not None:
                return bad
            form = dict(await request.form()) if request.method == "POST" else {}
            with self.lock:
                self.twilio.calls.append((request.method, f"IncomingPhoneNumbers/{sid}", dict(form)))
                row = self.twilio.owned.get(sid)
                if row is None:
                    return twilio_error(404, 20404, f"The requested resource {root}/IncomingPhoneNumbers/"
                                                    f"{sid}.json was not found")
                if request.method == "DELETE":
                    del self.twilio.owned[sid]
                    return Response(status_code=204)
                if request.method == "POST":
                    for key, name in (("VoiceUrl", "voice_url"), ("StatusCallback", "status_callback")):
                        if key in form:
                            row[name] = str(form[key])
                return JSONResponse(row)

        @app.get("/v1/PhoneNumbers/Countries/{iso}")
        def twilio_pricing(iso: str, request: Request) -> Response:
            if (bad := twilio_auth(request)) is not None:
                return bad
            with self.lock:
                self.twilio.pricing_calls += 1
            if iso not in TWILIO_PRICES:
                return twilio_error(404, 20404, "The requested resource was not found")
            unit, prices = TWILIO_PRICES[iso]
            return JSONResponse({
                "country": {"US": "United States", "CA": "Canada", "GB": "United Kingdom"}[iso], "iso_country": iso,
                "phone_number_prices": [{"number_type": t, "base_price": p, "current_price": p} for t, p in prices],
                "price_unit": unit, "url": f"https://pricing.twilio.com/v1/PhoneNumbers/Countries/{iso}"})

        # -- Telnyx ------------------------------------------------------------------------
        def telnyx_error(status: int, code: str, title: str, detail: str) -> JSONResponse:
            return JSONResponse({"errors": [{"code": code, "title": title, "detail": detail}]}, status_code=status)

        def telnyx_auth(request: Request) -> JSONResponse | None:
            if request.headers.get("authorization") != f"Bearer {TELNYX_KEY}":
                return telnyx_error(401, "10009", "Authentication failed", "The API key is not valid.")
            return None

        def page_of(rows: list[dict[str, Any]], request: Request) -> JSONResponse:
            q = request.query_params
            size, number = int(q.get("page[size]", 20)), int(q.get("page[number]", 1))
            chunk = rows[(number - 1) * size: number * size]
            pages = max(1, -(-len(rows) // size))
            return JSONResponse({"data": chunk, "meta": {"total_pages": pages, "total_results": len(rows),
                                                         "page_number": number, "page_size": size}})

        @app.get("/v2/available_phone_numbers")
        def telnyx_available(request: Request) -> Response:
            if (bad := telnyx_auth(request)) is not None:
                return bad
            q = request.query_params
            with self.lock:
                self.telnyx.calls.append(("GET", "available_phone_numbers", list(q.multi_items())))
                held = self.telnyx.held()
            country = q.get("filter[country_code]")
            if not country:
                return telnyx_error(422, "10015", "Bad Request", "filter[country_code] is required")
            found = [s for s in STOCK if s.country == country and s.phone_number not in held]
            if q.get("filter[phone_number_type]"):
                found = [s for s in found if s.type == q["filter[phone_number_type]"]]
            ndc = q.get("filter[national_destination_code]", "")
            if ndc:
                found = [s for s in found if s.national.startswith(ndc)]
            if q.get("filter[phone_number][starts_with]"):
                starts = q["filter[phone_number][starts_with]"]
                found = [s for s in found if s.national[len(ndc):].startswith(starts)]
            if q.get("filter[phone_number][contains]"):
                needle = q["filter[phone_number][contains]"]
                # Documented: wildcard characters yield no results.
                found = [] if not needle.isdigit() else [s for s in found if needle in s.national]
            if q.get("filter[locality]"):
                found = [s for s in found if (s.locality or "").lower() == q["filter[locality]"].lower()]
            features = q.getlist("filter[features][]") + q.getlist("filter[features]")
            for f in features:
                found = [s for s in found if getattr(s, f, False)]
            found = found[: int(q.get("filter[limit]", 50))]
            data = []
            for s in found:
                monthly, upfront, currency = TELNYX_COSTS[(s.country, s.type)]
                regions = [{"region_type": "country_code", "region_name": s.country}]
                if s.locality:
                    regions.append({"region_type": "location", "region_name": s.locality})
                    regions.append({"region_type": "rate_center", "region_name": s.locality.upper()})
                if s.region:
                    regions.append({"region_type": "state", "region_name": s.region})
                data.append({
                    "record_type": "available_phone_number", "phone_number": s.phone_number, "vanity_format": "",
                    "best_effort": False, "quickship": True, "reservable": True, "region_information": regions,
                    "cost_information": {"upfront_cost": upfront, "monthly_cost": monthly, "currency": currency},
                    "features": [{"name": f} for f in ("voice", "sms", "mms") if getattr(s, f)]})
            return JSONResponse({"data": data, "meta": {"total_results": len(data), "best_effort_results": 0}})

        @app.post("/v2/number_orders")
        async def telnyx_order(request: Request) -> Response:
            if (bad := telnyx_auth(request)) is not None:
                return bad
            body = await request.json()
            wanted = [p.get("phone_number") for p in body.get("phone_numbers") or []]
            with self.lock:
                self.telnyx.calls.append(("POST", "number_orders", [("phone_number", w) for w in wanted]))
                for e164 in wanted:
                    if (e164 in self.telnyx.taken or e164 in self.telnyx.held()
                            or not any(s.phone_number == e164 for s in STOCK)):
                        return telnyx_error(422, "85001", "Phone number not available",
                                            f"{e164} is not available for purchase.")
                now = _iso(_now())
                oid = str(uuid.uuid4())
                order = {"id": oid, "record_type": "number_order", "phone_numbers_count": len(wanted),
                         "connection_id": None, "messaging_profile_id": None, "billing_group_id": None,
                         "phone_numbers": [], "sub_number_orders_ids": [], "status": "pending",
                         "customer_reference": body.get("customer_reference"), "created_at": now,
                         "updated_at": now, "requirements_met": True}
                for e164 in wanted:
                    stock = next(s for s in STOCK if s.phone_number == e164)
                    order["phone_numbers"].append({"id": str(uuid.uuid4()), "record_type": "number_order_phone_number",
                                                   "phone_number": e164, "requirements_met": True,
                                                   "status": "pending"})
                    rid = str(next(self.telnyx._ids))
                    self.telnyx.numbers[rid] = {
                        "id": rid, "record_type": "phone_number", "phone_number": e164, "status": "purchase-pending",
                        "tags": [], "connection_id": None, "customer_reference": None,
                        "phone_number_type": stock.type, "country_iso_alpha2": stock.country,
                        "purchased_at": now, "created_at": now, "updated_at": now, "deletion_lock_enabled": False}
                self.telnyx.orders[oid] = order
                return JSONResponse({"data": order})

        @app.get("/v2/number_orders")
        def telnyx_orders(request: Request) -> Response:
            if (bad := telnyx_auth(request)) is not None:
                return bad
            with self.lock:
                self.telnyx.calls.append(("GET", "number_orders", list(request.query_params.multi_items())))
                rows = sorted(self.telnyx.orders.values(), key=lambda o: o["created_at"], reverse=True)
            return page_of(rows, request)

        @app.get("/v2/number_orders/{oid}")
        def telnyx_order_one(oid: str, request: Request) -> Response:
            if (bad := telnyx_auth(request)) is not None:
                return bad
            with self.lock:
                self.telnyx.calls.append(("GET", f"number_orders/{oid}", []))
                order = self.telnyx.orders.get(oid)
            if order is None:
                return telnyx_error(404, "10005", "Resource not found", "The number order was not found.")
            return JSONResponse({"data": order})

        @app.get("/v2/phone_numbers")
        def telnyx_numbers(request: Request) -> Response:
            if (bad := telnyx_auth(request)) is not None:
                return bad
            q = request.query_params
            with self.lock:
                self.telnyx.calls.append(("GET", "phone_numbers", list(q.multi_items())))
                rows = sorted(self.telnyx.numbers.values(), key=lambda r: r["id"])
            if q.get("filter[phone_number]") is not None:
                needle = q["filter[phone_number]"]
                # Documented: digits only; anything else finds nothing.
                rows = [] if not needle.isdigit() else [r for r in rows if needle in r["phone_number"]]
            return page_of(rows, request)

        @app.delete("/v2/phone_numbers/{rid}")
        def telnyx_delete(rid: str, request: Request) -> Response:
            if (bad := telnyx_auth(request)) is not None:
                return bad
            with self.lock:
                self.telnyx.calls.append(("DELETE", f"phone_numbers/{rid}", []))
                record = self.telnyx.numbers.pop(rid, None)
            if record is None:
                return telnyx_error(404, "10005", "Resource not found", "The phone number was not found.")
            return JSONResponse({"data": {**record, "status": "deleted"}})

        return app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """A FastAPI app served by uvicorn in a thread on 127.0.0.1."""

    def __init__(self, app: FastAPI) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False,
                                lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="fake-carriers", daemon=True)

    def start(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the fake carrier server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


_served: tuple[FakeCarriers, Served] | None = None
_served_lock = threading.Lock()


def fake_carriers() -> FakeCarriers:
    """The fake APIs of this test process (started once), with fresh state."""
    global _served
    with _served_lock:
        if _served is None:
            carriers = FakeCarriers()
            server = Served(carriers.app).start()
            carriers.url = server.url
            _served = (carriers, server)
    carriers = _served[0]
    carriers.reset()
    return carriers
