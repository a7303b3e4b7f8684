"""The Twilio adapter, through the official SDK, against a fake Twilio API served over HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from twilio.base.exceptions import TwilioRestException

from numberdesk.audit.models import AuditEvent
from numberdesk.auth.context import Ctx
from numberdesk.carrier_sync.reconcile import reconcile
from numberdesk.errors import CarrierError, NumberUnavailable
from numberdesk.numbers.models import PhoneNumber
from numberdesk.numbers.service import purchase
from numberdesk.providers.base import Order, SearchQuery
from numberdesk.providers.twilio import HostRewritingHttpClient, TwilioCarrier, map_error
from numberdesk.worker.runner import run_due
from tests.conftest import free_port
from tests.providers.fake_carriers import (
    TWILIO_SID,
    TWILIO_TOKEN,
    FakeCarriers,
    _rfc2822,
    fake_carriers,
)

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
VOICE = "http://testserver/webhooks/twilio/voice"
STATUS = "http://testserver/webhooks/twilio/status"


@pytest.fixture
def fake() -> FakeCarriers:
    return fake_carriers()


@pytest.fixture
def carrier(fake: FakeCarriers) -> TwilioCarrier:
    return TwilioCarrier(account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN, public_url="http://testserver",
                         api_base_url=fake.url)


@pytest.fixture
def settings_overrides(fake: FakeCarriers) -> dict[str, Any]:
    return {"provider": "twilio", "carrier_api_base_url": fake.url, "twilio_account_sid": TWILIO_SID,
            "twilio_auth_token": TWILIO_TOKEN}


def numbers(found: list[Any]) -> list[str]:
    return [x.phone_number for x in found]


def sent(fake: FakeCarriers, what: str) -> list[dict[str, str]]:
    return [params for _, path, params in fake.twilio.calls if path == what]


# -- search ------------------------------------------------------------------------------
def test_search_by_area_code_with_exact_prices(carrier: TwilioCarrier, fake: FakeCarriers) -> None:
    found = carrier.search(None, SearchQuery(country="US", type="local", area_code="415"), NOW)
    assert numbers(found) == ["+14152011000", "+14152012255", "+14152019876", "+14155552255"]
    # Twilio sends "1.15": as a float that is 114.99999999999999 cents; we store exactly 115.
    assert {(x.monthly_price_minor, x.setup_price_minor, x.currency) for x in found} == {(115, 0, "USD")}
    first = found[0]
    assert (first.country, first.type, first.locality, first.region) == ("US", "local", "San Francisco", "CA")
    assert (first.voice, first.sms, first.mms) == (True, True, True)
    assert (found[2].sms, found[2].mms) == (False, False)
    assert sent(fake, "AvailablePhoneNumbers/US/Local")[0]["AreaCode"] == "415"

    gb = carrier.search(None, SearchQuery(country="GB", type="mobile"), NOW)
    assert [(x.phone_number, x.monthly_price_minor) for x in gb] == [("+447400123456", 450)]
    tf = carrier.search(None, SearchQuery(country="GB", type="toll_free"), NOW)
    assert [(x.phone_number, x.monthly_price_minor) for x in tf] == [("+448081570001", 1500)]


def test_search_letters_and_wildcards_are_twilio_contains(carrier: TwilioCarrier, fake: FakeCarriers) -> None:
    found = carrier.search(None, SearchQuery(country="US", contains="CALL"), NOW)
    assert numbers(found) == ["+14152012255", "+14155552255", "+13122012255"]
    assert sent(fake, "AvailablePhoneNumbers/US/Local")[0]["Contains"] == "CALL"  # Twilio reads letters itself

    found = carrier.search(None, SearchQuery(country="US", type="local", contains="20*2255"), NOW)
    assert numbers(found) == ["+14152012255", "+13122012255"]
    assert sent(fake, "AvailablePhoneNumbers/US/Local")[-1]["Contains"] == "20*2255"

    # Lower case letters, across countries and types when none is given (stops at the limit).
    found = carrier.search(None, SearchQuery(contains="call", limit=2), NOW)
    assert numbers(found) == ["+14152012255", "+14155552255"]


def test_search_capabilities_and_locality(carrier: TwilioCarrier, fake: FakeCarriers) -> None:
    found = carrier.search(None, SearchQuery(country="US", type="local", area_code="415",
                                             capabilities=frozenset({"mms"})), NOW)
    assert numbers(found) == ["+14152011000", "+14155552255"]
    assert sent(fake, "AvailablePhoneNumbers/US/Local")[-1]["MmsEnabled"] == "true"

    found = carrier.search(None, SearchQuery(country="US", type="local", locality="Chicago"), NOW)
    assert numbers(found) == ["+13122012255", "+13125551234"]
    assert sent(fake, "AvailablePhoneNumbers/US/Local")[-1]["InLocality"] == "Chicago"


def test_prefix_is_sent_as_contains_and_anchored_here(carrier: TwilioCarrier, fake: FakeCarriers) -> None:
    # Twilio's Contains "20" also matches Manchester's 0161 207 2000; only London's 020 is a prefix match.
    for prefix in ("+4420", "020"):
        found = carrier.search(None, SearchQuery(country="GB", type="local", prefix=prefix), NOW)
        assert numbers(found) == ["+442079460000"]
    assert [p["Contains"] for p in sent(fake, "AvailablePhoneNumbers/GB/Local")] == ["20", "20"]

    found = carrier.search(None, SearchQuery(country="US", type="local", prefix="+1312"), NOW)
    assert numbers(found) == ["+13122012255", "+13125551234"]
    assert sent(fake, "AvailablePhoneNumbers/US/Local")[-1]["AreaCode"] == "312"
    # A prefix of another country finds nothing without asking Twilio.
    calls = len(fake.twilio.calls)
    assert carrier.search(None, SearchQuery(country="US", prefix="+44"), NOW) == []
    assert len(fake.twilio.calls) == calls


def test_prices_are_cached_per_country(carrier: TwilioCarrier, fake: FakeCarriers) -> None:
    carrier.search(None, SearchQuery(country="US", type="local"), NOW)
    carrier.search(None, SearchQuery(country="US", type="toll_free"), NOW)
    assert fake.twilio.pricing_calls == 1
    carrier.search(None, SearchQuery(country="GB", type="local"), NOW)
    assert fake.twilio.pricing_calls == 2


def test_lookup_finds_exactly_that_number(carrier: TwilioCarrier, fake: FakeCarriers) -> None:
    listing = carrier.lookup(None, "+14152019876", NOW)
    assert listing is not None
    assert (listing.phone_number, listing.sms, listing.monthly_price_minor) == ("+14152019876", False, 115)
    assert carrier.lookup(None, "+18883421234", NOW).type == "toll_free"  # type: ignore[union-attr]
    assert carrier.lookup(None, "+14152010000", NOW) is None  # not in Twilio's stock
    fake.twilio.buy("+14152019876")
    assert carrier.lookup(None, "+14152019876", NOW) is None  # ours now: not for sale


# -- the order's life ----------------------------------------------------------------------
def test_order_configuration_hold_reactivate_return(carrier: TwilioCarrier, fake: FakeCarriers) -> None:
    listing = carrier.lookup(None, "+14152011000", NOW)
    assert listing is not None
    order = carrier.order(None, listing, NOW)
    assert order.ref.startswith("PN") and order.ready_at == NOW  # in service at once: due now
    row = fake.twilio.owned[order.ref]
    assert (row["phone_number"], row["voice_url"], row["status_callback"]) == (listing.phone_number, VOICE, STATUS)
    assert carrier.order_status(None, order.ref, NOW).state == "active"
    assert carrier.configuration_ok(None, order.ref)
    assert carrier.lookup(None, listing.phone_number, NOW) is None

    row["voice_url"] = "https://elsewhere.example/voice"
    assert not carrier.configuration_ok(None, order.ref)

    carrier.release(None, order.ref, NOW)
    # Held (and billed by Twilio) through the reclaim window, so it can come back.
    assert order.ref in fake.twilio.owned and carrier.holds(None, order.ref)
    assert carrier.reactivate(None, order.ref, NOW) == Order(order.ref, None)
    assert fake.twilio.owned[order.ref]["voice_url"] == VOICE  # pointed back at us
    assert carrier.configuration_ok(None, order.ref)
    assert [(h.ref, h.phone_number) for h in carrier.holdings(None)] == [(order.ref, listing.phone_number)]

    carrier.return_number(None, order.ref, listing.phone_number, NOW)
    assert fake.twilio.owned == {}
    assert not carrier.holds(None, order.ref)
    assert carrier.order_status(None, order.ref, NOW).state == "failed"
    assert not carrier.configuration_ok(None, order.ref)
    carrier.return_number(None, order.ref, listing.phone_number, NOW)  # a retried sweep: no error
    with pytest.raises(NumberUnavailable):
        carrier.reactivate(None, order.ref, NOW)
    assert carrier.lookup(None, listing.phone_number, NOW) is not None  # for sale again


def test_similar_numbers_share_the_area_code_first(carrier: TwilioCarrier) -> None:
    found = carrier.similar(None, "+14152011000", NOW, limit=3)
    assert numbers(found) == ["+14152012255", "+14152019876", "+14155552255"]
    found = carrier.similar(None, "+14152011000", NOW, limit=6)
    assert numbers(found)[:3] == ["+14152012255", "+14152019876", "+14155552255"]
    assert "+14152011000" not in numbers(found) and len(found) == 6


def test_holdings_and_adoption(carrier: TwilioCarrier, fake: FakeCarriers) -> None:
    sid = fake.twilio.buy("+13125551234", voice_url="https://old.example/voice")
    assert [(h.ref, h.phone_number) for h in carrier.holdings(None)] == [(sid, "+13125551234")]
    assert [h.ref for h in carrier.holdings(None, "+13125551234")] == [sid]
    assert carrier.holdings(None, "+13122012255") == []
    holding = carrier.holdings(None)[0]
    assert holding.since is not None and holding.since.tzinfo is not None
    real_now = dt.datetime.now(dt.UTC)
    adopted = carrier.adopt(None, holding, real_now)
    assert adopted is not None
    listing, order = adopted
    assert (listing.phone_number, listing.country, listing.type, listing.monthly_price_minor) == (
        "+13125551234", "US", "local", 115)
    assert listing.mms and order.ref == sid and order.ready_at is not None and order.ready_at <= real_now
    assert fake.twilio.owned[sid]["voice_url"] == VOICE


# -- errors ----------------------------------------------------------------------------------
def test_errors_are_mapped(carrier: TwilioCarrier, fake: FakeCarriers) -> None:
    listing = carrier.lookup(None, "+14152012255", NOW)
    assert listing is not None
    fake.twilio.taken.add(listing.phone_number)
    with pytest.raises(NumberUnavailable) as unavailable:
        carrier.order(None, listing, NOW)
    assert "not available" in unavailable.value.detail and fake.twilio.owned == {}

    fake.twilio.fail_next = 500
    with pytest.raises(CarrierError) as failed:
        carrier.search(None, SearchQuery(country="US", type="local"), NOW)
    assert "internal server error" in failed.value.detail.lower()

    wrong = TwilioCarrier(account_sid=TWILIO_SID, auth_token="not-the-token", public_url="http://testserver",
                          api_base_url=fake.url)
    with pytest.raises(CarrierError) as denied:
        wrong.holdings(None)
    assert "Authenticate" in denied.value.detail and "20003" in denied.value.detail

    gone = TwilioCarrier(account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN, public_url="http://testserver",
                         api_base_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(CarrierError) as unreachable:
        gone.holdings(None)
    assert "could not be reached" in unreachable.value.detail


def test_error_codes() -> None:
    assert isinstance(map_error(TwilioRestException(400, "/x", "No numbers", 21452)), NumberUnavailable)
    assert isinstance(map_error(TwilioRestException(400, "/x", "Taken", 21422), "+14155550100"), NumberUnavailable)
    other = map_error(TwilioRestException(400, "/x", "Unable to create record: Invalid VoiceUrl", 21502))
    assert isinstance(other, CarrierError) and other.detail == (
        "Twilio refused or failed: Invalid VoiceUrl (Twilio error 21502)")


def test_host_rewriting_keeps_paths() -> None:
    client = HostRewritingHttpClient("http://proxy.internal:8080/twilio/")
    assert client.rewrite("https://api.twilio.com/2010-04-01/Accounts/AC1.json") == (
        "http://proxy.internal:8080/twilio/2010-04-01/Accounts/AC1.json")
    assert client.rewrite("https://pricing.twilio.com/v1/PhoneNumbers/Countries/US") == (
        "http://proxy.internal:8080/twilio/v1/PhoneNumbers/Countries/US")
    assert client.rewrite("https://example.com/twilio.com") == "https://example.com/twilio.com"


# -- through the product, on both databases ------------------------------------------------------
def _ref(app: Any, number_id: str) -> str | None:
    with app.state.nd.db.session(write=False) as s:
        return s.scalar(select(PhoneNumber.provider_ref).where(PhoneNumber.id == number_id))


def test_buying_through_the_api(app: Any, alice: Any, fake: FakeCarriers) -> None:
    found = alice.search(country="US", area_code="415", capabilities="mms")
    assert [x["phone_number"] for x in found] == ["+14152011000", "+14155552255"]
    assert found[0]["monthly_price"] == {"amount": "1.15", "currency": "USD"}

    n = alice.buy("+14152011000")
    assert n["status"] == "pending"
    (sid,) = fake.twilio.owned
    assert _ref(app, n["id"]) == sid and fake.twilio.owned[sid]["voice_url"] == VOICE
    st = app.state.nd
    run_due(st.db, st.clock, st.settings)
    assert alice.number(n["id"])["status"] == "active"

    fake.twilio.taken.add("+14152012255")
    r = alice.post("/v1/numbers", {"phone_number": "+14152012255"})
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "number_unavailable"
    assert [x["phone_number"] for x in alice.get("/v1/numbers").json()["data"]] == ["+14152011000"]

    r = alice.post(f"/v1/numbers/{n['id']}/release", {"reason": "no_longer_needed", "acknowledge": True})
    assert r.status_code == 200, r.text
    assert list(fake.twilio.owned) == [sid]  # kept at Twilio through the reclaim window
    r = alice.get(f"/v1/numbers/{n['id']}/reactivation")
    checks = {(c["code"], c.get("detail")) for c in r.json()["checks"]}
    assert ("not_eligible", "The carrier still holds the number for this account.") in checks


def _crashed_purchase(app: Any, alice: Any, e164: str) -> None:
    st = app.state.nd
    with pytest.raises(RuntimeError), st.db.session() as s:
        ctx = Ctx(session=s, account_id=alice.account_id, actor="key_test", role="owner", clock=st.clock,
                  settings=st.settings)
        purchase(ctx, e164)
        raise RuntimeError("crashed after the carrier's answer, before our commit")


def test_purchase_retried_after_a_crash_adopts_the_order(app: Any, alice: Any, fake: FakeCarriers) -> None:
    e164 = "+13122012255"
    _crashed_purchase(app, alice, e164)
    assert fake.twilio.owned_numbers() == {e164}
    assert alice.get("/v1/numbers").json()["data"] == []  # our side rolled back
    (sid,) = fake.twilio.owned

    n = alice.buy(e164)
    creates = [c for c in fake.twilio.calls if c[:2] == ("POST", "IncomingPhoneNumbers")]
    assert len(creates) == 1  # never ordered twice
    assert list(fake.twilio.owned) == [sid] and _ref(app, n["id"]) == sid
    assert n["monthly_price"] == {"amount": "1.15", "currency": "USD"}
    with app.state.nd.db.session(write=False) as s:
        after = s.scalar(select(AuditEvent.after).where(AuditEvent.action == "number.purchase",
                                                        AuditEvent.target_id == n["id"]))
    assert after["adopted_carrier_order"] == sid
    report = reconcile(app.state.nd.db, app.state.nd.settings, app.state.nd.clock, apply=False)
    assert report.drift == [] and report.carrier_holdings == 1 and report.live_numbers == 1


def test_reconcile_returns_a_twilio_orphan_once_it_is_old_enough(app: Any, alice: Any, fake: FakeCarriers) -> None:
    e164 = "+13125551234"
    _crashed_purchase(app, alice, e164)
    (sid,) = fake.twilio.owned
    st = app.state.nd
    report = reconcile(st.db, st.settings, st.clock, apply=True)
    assert [(d.kind, d.phone_number, d.carrier_ref, d.action) for d in report.drift] == [
        ("orphan", e164, sid, "skipped")]  # a purchase may still be committing
    assert sid in fake.twilio.owned

    fake.twilio.owned[sid]["date_created"] = _rfc2822(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    report = reconcile(st.db, st.settings, st.clock, apply=True)
    assert [(d.kind, d.action) for d in report.drift] == [("orphan", "returned")]
    assert fake.twilio.owned == {}
    with st.db.session(write=False) as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "carrier.orphan_returned")).one()
    assert (event.account_id, event.actor, event.target_id) == (None, "system", e164)
    assert event.before["carrier_ref"] == sid
    assert reconcile(st.db, st.settings, st.clock, apply=False).drift == []
    assert [x["phone_number"] for x in alice.search(country="US", locality="Chicago")] == [
        "+13122012255", "+13125551234"]
