"""The Telnyx adapter, over httpx, against a fake Telnyx API v2 served over HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from numberdesk.auth.context import Ctx
from numberdesk.carrier_sync.reconcile import reconcile
from numberdesk.errors import CarrierError, NumberUnavailable
from numberdesk.numbers.models import PhoneNumber
from numberdesk.numbers.service import purchase
from numberdesk.providers.base import Order, SearchQuery
from numberdesk.providers.telnyx import POLL, TelnyxCarrier
from numberdesk.worker.runner import run_due
from tests.conftest import free_port
from tests.providers.fake_carriers import TELNYX_KEY, FakeCarriers, fake_carriers

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def fake() -> FakeCarriers:
    return fake_carriers()


@pytest.fixture
def carrier(fake: FakeCarriers) -> TelnyxCarrier:
    return TelnyxCarrier(api_key=TELNYX_KEY, api_base_url=fake.url)


@pytest.fixture
def settings_overrides(fake: FakeCarriers) -> dict[str, Any]:
    return {"provider": "telnyx", "carrier_api_base_url": fake.url, "telnyx_api_key": TELNYX_KEY}


def numbers(found: list[Any]) -> list[str]:
    return [x.phone_number for x in found]


def searches(fake: FakeCarriers) -> list[list[tuple[str, str]]]:
    return [params for _, path, params in fake.telnyx.calls if path == "available_phone_numbers"]


# -- search ------------------------------------------------------------------------------
def test_search_sends_documented_filters_and_reads_costs(carrier: TelnyxCarrier, fake: FakeCarriers) -> None:
    found = carrier.search(None, SearchQuery(country="US", type="local", area_code="415",
                                             capabilities=frozenset({"mms", "sms"})), NOW)
    assert numbers(found) == ["+14152011000", "+14155552255"]
    params = searches(fake)[0]
    assert ("filter[country_code]", "US") in params and ("filter[phone_number_type]", "local") in params
    assert ("filter[national_destination_code]", "415") in params
    assert [v for k, v in params if k == "filter[features][]"] == ["mms", "sms"]
    first = found[0]
    assert (first.monthly_price_minor, first.setup_price_minor, first.currency) == (100, 100, "USD")
    assert (first.locality, first.region, first.voice, first.sms, first.mms) == (
        "San Francisco", "CA", True, True, True)

    ca = carrier.search(None, SearchQuery(country="CA"), NOW)
    # "1.15" is 114.99999999999999 cents as a float; exactly 115 here.
    assert [(x.phone_number, x.monthly_price_minor, x.setup_price_minor) for x in ca] == [("+16042211234", 115, 100)]
    gb = carrier.search(None, SearchQuery(country="GB", type="toll_free"), NOW)
    assert [(x.monthly_price_minor, x.setup_price_minor, x.currency) for x in gb] == [(1500, 500, "GBP")]


def test_letters_and_wildcards_become_digits_checked_here(carrier: TelnyxCarrier, fake: FakeCarriers) -> None:
    found = carrier.search(None, SearchQuery(country="US", type="local", contains="CALL"), NOW)
    assert numbers(found) == ["+14152012255", "+14155552255", "+13122012255"]
    assert ("filter[phone_number][contains]", "2255") in searches(fake)[-1]  # no letters at Telnyx

    # Telnyx has no wildcards: the longest literal run is sent, the whole pattern checked here.
    found = carrier.search(None, SearchQuery(country="US", type="local", contains="20*2255"), NOW)
    assert numbers(found) == ["+14152012255", "+13122012255"]
    assert ("filter[phone_number][contains]", "2255") in searches(fake)[-1]
    assert all("*" not in v for params in searches(fake) for _, v in params)


def test_prefix_and_locality(carrier: TelnyxCarrier, fake: FakeCarriers) -> None:
    found = carrier.search(None, SearchQuery(country="US", type="local", prefix="+1415201"), NOW)
    assert numbers(found) == ["+14152011000", "+14152012255", "+14152019876"]
    params = searches(fake)[-1]
    # starts_with leaves the NDC out when both are sent.
    assert ("filter[national_destination_code]", "415") in params
    assert ("filter[phone_number][starts_with]", "201") in params

    found = carrier.search(None, SearchQuery(country="GB", type="local", prefix="020"), NOW)
    assert numbers(found) == ["+442079460000"]
    found = carrier.search(None, SearchQuery(country="US", locality="Chicago"), NOW)
    assert numbers(found) == ["+13122012255", "+13125551234"]
    assert ("filter[locality]", "Chicago") in searches(fake)[-1]


def test_lookup_and_similar(carrier: TelnyxCarrier) -> None:
    listing = carrier.lookup(None, "+14152019876", NOW)
    assert listing is not None and listing.phone_number == "+14152019876" and not listing.sms
    assert carrier.lookup(None, "+14152010000", NOW) is None
    assert numbers(carrier.similar(None, "+14152011000", NOW, limit=2)) == ["+14152012255", "+14152019876"]


# -- the order's life ----------------------------------------------------------------------
def test_order_provisioning_hold_reactivate_return(carrier: TelnyxCarrier, fake: FakeCarriers) -> None:
    listing = carrier.lookup(None, "+13125551234", NOW)
    assert listing is not None
    order = carrier.order(None, listing, NOW)
    assert order.ready_at == NOW + POLL
    assert fake.telnyx.orders[order.ref]["phone_numbers"][0]["phone_number"] == listing.phone_number
    assert carrier.order_status(None, order.ref, NOW).state == "pending"
    assert carrier.lookup(None, listing.phone_number, NOW) is None
    [holding] = carrier.holdings(None)
    assert (holding.ref, holding.phone_number) == (order.ref, listing.phone_number)  # refs are order ids
    assert not carrier.configuration_ok(None, order.ref)  # purchase-pending

    fake.telnyx.complete(order.ref)
    assert carrier.order_status(None, order.ref, NOW).state == "active"
    assert carrier.configuration_ok(None, order.ref)
    carrier.release(None, order.ref, NOW)
    assert carrier.holds(None, order.ref) and fake.telnyx.held() == {listing.phone_number}
    assert carrier.reactivate(None, order.ref, NOW) == Order(order.ref, None)

    (record_id,) = fake.telnyx.numbers
    carrier.return_number(None, order.ref, listing.phone_number, NOW)
    assert fake.telnyx.held() == set()
    assert [c[:2] for c in fake.telnyx.calls if c[0] == "DELETE"] == [("DELETE", f"phone_numbers/{record_id}")]
    assert not carrier.holds(None, order.ref) and not carrier.configuration_ok(None, order.ref)
    carrier.return_number(None, order.ref, listing.phone_number, NOW)  # a retried sweep: no error
    with pytest.raises(NumberUnavailable):
        carrier.reactivate(None, order.ref, NOW)
    assert carrier.lookup(None, listing.phone_number, NOW) is not None


def test_failed_orders_and_errors(carrier: TelnyxCarrier, fake: FakeCarriers) -> None:
    listing = carrier.lookup(None, "+14152012255", NOW)
    assert listing is not None
    order = carrier.order(None, listing, NOW)
    fake.telnyx.complete(order.ref, status="failure")
    assert carrier.order_status(None, order.ref, NOW).state == "failed"
    assert not carrier.holds(None, order.ref)
    assert carrier.order_status(None, "no-such-order", NOW).state == "failed"

    taken = carrier.lookup(None, "+14155552255", NOW)
    assert taken is not None
    fake.telnyx.taken.add(taken.phone_number)
    with pytest.raises(NumberUnavailable) as unavailable:
        carrier.order(None, taken, NOW)
    assert "not available" in unavailable.value.detail

    wrong = TelnyxCarrier(api_key="KEYwrong", api_base_url=fake.url)
    with pytest.raises(CarrierError) as denied:
        wrong.search(None, SearchQuery(country="US"), NOW)
    assert "Authentication failed" in denied.value.detail or "not valid" in denied.value.detail
    assert "10009" in denied.value.detail
    gone = TelnyxCarrier(api_key=TELNYX_KEY, api_base_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(CarrierError) as unreachable:
        gone.holdings(None)
    assert "could not be reached" in unreachable.value.detail


def test_holdings_page_through_every_number(carrier: TelnyxCarrier, fake: FakeCarriers,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    bought = []
    for e164 in ("+14152011000", "+14152012255", "+13122012255"):
        listing = carrier.lookup(None, e164, NOW)
        assert listing is not None
        bought.append((carrier.order(None, listing, NOW).ref, e164))
    fake.telnyx.complete()
    monkeypatch.setattr("numberdesk.providers.telnyx.PAGE_SIZE", 2)  # several pages
    held = carrier.holdings(None)
    assert sorted((h.ref, h.phone_number) for h in held) == sorted(bought)
    pages = [dict(p).get("page[number]") for _, path, p in fake.telnyx.calls if path == "phone_numbers"]
    assert pages == ["1", "2"]


# -- through the product, on both databases ------------------------------------------------------
def _ref(app: Any, number_id: str) -> str | None:
    with app.state.nd.db.session(write=False) as s:
        return s.scalar(select(PhoneNumber.provider_ref).where(PhoneNumber.id == number_id))


def test_buying_through_the_api(app: Any, alice: Any, fake: FakeCarriers) -> None:
    found = alice.search(country="CA")
    assert [(x["phone_number"], x["monthly_price"]["amount"], x["setup_price"]["amount"]) for x in found] == [
        ("+16042211234", "1.15", "1.00")]
    n = alice.buy("+16042211234")
    assert n["status"] == "pending"
    (order_id,) = fake.telnyx.orders
    assert _ref(app, n["id"]) == order_id
    st = app.state.nd
    run_due(st.db, st.clock, st.settings)
    assert alice.number(n["id"])["status"] == "pending"  # Telnyx has not finished yet
    fake.telnyx.complete()
    with st.db.session() as s:  # the poll is due
        s.get(PhoneNumber, n["id"]).provisioning_due_at = st.clock.now()
    run_due(st.db, st.clock, st.settings)
    assert alice.number(n["id"])["status"] == "active"

    fake.telnyx.taken.add("+14152012255")
    r = alice.post("/v1/numbers", {"phone_number": "+14152012255"})
    assert r.status_code == 409 and r.json()["code"] == "number_unavailable", r.text


def test_purchase_retried_after_a_crash_adopts_the_order(app: Any, alice: Any, fake: FakeCarriers) -> None:
    st = app.state.nd
    e164 = "+14152019876"
    with pytest.raises(RuntimeError), st.db.session() as s:
        ctx = Ctx(session=s, account_id=alice.account_id, actor="key_test", role="owner", clock=st.clock,
                  settings=st.settings)
        purchase(ctx, e164)
        raise RuntimeError("crashed after the carrier's answer, before our commit")
    (order_id,) = fake.telnyx.orders
    assert fake.telnyx.held() == {e164}

    n = alice.buy(e164)
    assert [c for c in fake.telnyx.calls if c[:2] == ("POST", "number_orders")] == [
        ("POST", "number_orders", [("phone_number", e164)])]  # never ordered twice
    assert _ref(app, n["id"]) == order_id and n["status"] == "pending"
    assert n["monthly_price"] == {"amount": "1.00", "currency": "USD"}
    report = reconcile(st.db, st.settings, st.clock, apply=False)
    assert report.drift == [] and report.carrier_holdings == 1
