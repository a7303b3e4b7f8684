"""Searching the sandbox carrier's available numbers through the API."""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
import pytest

from tests.core.helpers import assert_problem, query

KEYPAD = {**dict.fromkeys("ABC", "2"), **dict.fromkeys("DEF", "3"), **dict.fromkeys("GHI", "4"),
          **dict.fromkeys("JKL", "5"), **dict.fromkeys("MNO", "6"), **dict.fromkeys("PQRS", "7"),
          **dict.fromkeys("TUV", "8"), **dict.fromkeys("WXYZ", "9")}


def nsn(e164: str) -> str:
    return phonenumbers.national_significant_number(phonenumbers.parse(e164))


def assert_money(value: Any) -> None:
    assert set(value) == {"amount", "currency"}, value
    assert re.fullmatch(r"\d+\.\d{2}", value["amount"]), value
    assert value["currency"] in ("USD", "GBP"), value


def assert_listing(x: dict[str, Any]) -> None:
    assert set(x) == {"phone_number", "national_format", "country", "type", "capabilities", "locality",
                      "region", "monthly_price", "setup_price"}, x
    parsed = phonenumbers.parse(x["phone_number"])
    assert phonenumbers.is_valid_number(parsed), x
    assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == x["phone_number"]
    assert x["national_format"] == phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    assert phonenumbers.region_code_for_number(parsed) == x["country"] or x["type"] == "toll_free"
    assert set(x["capabilities"]) == {"voice", "sms", "mms"}
    assert_money(x["monthly_price"])
    assert_money(x["setup_price"])
    assert x["monthly_price"]["currency"] == x["setup_price"]["currency"]


def test_default_search_lists_priced_numbers(alice):
    rows = alice.search()
    assert len(rows) == 20  # the default limit
    for x in rows:
        assert_listing(x)
        assert float(x["monthly_price"]["amount"]) > 0
    assert len({x["phone_number"] for x in rows}) == 20


@pytest.mark.parametrize("country", ["US", "CA", "GB"])
@pytest.mark.parametrize("type_", ["local", "mobile", "toll_free"])
def test_country_and_type(alice, country, type_):
    rows = alice.search(country=country, type=type_, limit=10)
    assert len(rows) == 10
    for x in rows:
        assert_listing(x)
        assert x["country"] == country and x["type"] == type_
        kind = phonenumbers.number_type(phonenumbers.parse(x["phone_number"]))
        expected = {"local": {phonenumbers.PhoneNumberType.FIXED_LINE,
                              phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE},
                    "mobile": {phonenumbers.PhoneNumberType.MOBILE,
                               phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE},
                    "toll_free": {phonenumbers.PhoneNumberType.TOLL_FREE}}[type_]
        assert kind in expected, x
        if type_ == "mobile":
            assert x["capabilities"]["sms"] and x["capabilities"]["mms"]
        if type_ == "local" and country != "GB":
            assert x["locality"] and x["region"]


def test_area_code_us_and_gb(alice):
    rows = alice.search(area_code="415", limit=50)
    assert rows
    assert all(x["phone_number"].startswith("+1415") for x in rows)
    assert all(x["region"] == "CA" for x in rows if x["type"] == "local")
    london = alice.search(country="GB", area_code="20", limit=10)
    assert london and all(x["phone_number"].startswith("+4420") for x in london)
    # The national form with the trunk 0 means the same area.
    assert alice.search(country="GB", area_code="020", limit=10) == london


def test_prefix_e164_and_national_forms(alice):
    sample = alice.search(area_code="415", type="local", limit=1)[0]["phone_number"]
    e164_prefix = sample[:7]  # +1 415 NN
    rows = alice.search(prefix=e164_prefix, limit=50)
    assert rows and all(x["phone_number"].startswith(e164_prefix) for x in rows)
    assert sample in {x["phone_number"] for x in rows}
    # The same prefix typed nationally, with and without the NANP trunk 1.
    assert alice.search(prefix=e164_prefix[2:], limit=50) == rows
    assert alice.search(prefix="1" + e164_prefix[2:], limit=50) == rows
    # GB: "0207" is the national form of +44207.
    gb = alice.search(prefix="0207", limit=20)
    assert gb and all(x["phone_number"].startswith("+44207") for x in gb)
    assert alice.search(prefix="+44207", limit=20) == gb
    # The full number as a prefix finds exactly that number.
    assert [x["phone_number"] for x in alice.search(prefix=sample)] == [sample]


def test_contains_digits_letters_and_wildcard(alice):
    rows = alice.search(contains="22", limit=30)
    assert len(rows) == 30 and all("22" in nsn(x["phone_number"]) for x in rows)
    letters = alice.search(contains="CALL", limit=10)
    assert letters and all("2255" in nsn(x["phone_number"]) for x in letters)
    assert alice.search(contains="call", limit=10) == letters  # letters in any case
    assert alice.search(contains="2255", limit=10) == letters  # letters are their keypad digits
    wild = alice.search(contains="2*5", limit=40)
    assert len(wild) == 40
    assert all(re.search(r"2\d5", nsn(x["phone_number"])) for x in wild)
    assert any(not re.search("2[^\\d]5|25", nsn(x["phone_number"])) for x in wild)
    mixed = alice.search(contains="4*CA", limit=10)
    assert all(re.search(r"4\d22", nsn(x["phone_number"])) for x in mixed)
    combined = alice.search(area_code="310", contains="1*", limit=10)
    assert combined and all(x["phone_number"].startswith("+1310") and re.search(r"1\d", nsn(x["phone_number"]))
                            for x in combined)
    # Letters map to digits by the keypad table (every letter, not only CALL).
    word = "NUMBERDESK"[:4]
    digits = "".join(KEYPAD[c] for c in word)
    assert alice.search(contains=word, limit=5) == alice.search(contains=digits, limit=5)


def test_capabilities_locality_and_limit(alice):
    mms = alice.search(capabilities="mms", limit=25)
    assert len(mms) == 25 and all(x["capabilities"]["mms"] for x in mms)
    both = alice.search(capabilities="sms,mms", country="US", limit=10)
    assert all(x["capabilities"]["sms"] and x["capabilities"]["mms"] and x["country"] == "US" for x in both)
    voice_only_gb = alice.search(country="GB", type="local", capabilities="sms", limit=5)
    assert voice_only_gb == []  # GB landlines carry no SMS in the sandbox
    sf = alice.search(locality="san francisco", limit=15)
    assert sf and all("san francisco" in (x["locality"] or "").lower() for x in sf)
    assert alice.search(locality="SAN FRANCISCO", limit=15) == sf
    assert alice.search(locality="no such place anywhere") == []
    for n in (1, 7, 100):
        assert len(alice.search(limit=n)) == n


@pytest.mark.parametrize("params", [
    {"limit": 0}, {"limit": 100000}, {"limit": -1}, {"limit": "ten"},
    {"country": "FR"}, {"country": "us"}, {"type": "landline"}, {"capabilities": "fax"},
    {"capabilities": "sms,"}, {"area_code": "41a"}, {"area_code": "123456"},
    {"prefix": "+1-415"}, {"prefix": "abc"}, {"prefix": "+" + "1" * 16},
    {"contains": "CA-LL"}, {"contains": "é"}, {"contains": "1" * 16}, {"contains": ""},
    {"locality": "x" * 101},
])
def test_bad_search_parameters_are_422(alice, params):
    r = alice.get("/v1/available-numbers", params=params)
    assert_problem(r, 422, "validation_error")


def _released_hold(bob) -> str:
    """A number bob has released and that is still in its reclaim window."""
    n = bob.buy(search={"area_code": "310"})
    r = bob.post(f"/v1/numbers/{n['id']}/release", {"reason": "no_longer_needed", "acknowledge": True})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "released"
    return n["phone_number"]


def test_held_numbers_of_any_account_are_never_offered(alice, bob, db_url):
    pending = alice.buy(search={"area_code": "415"})
    active = alice.buy(search={"area_code": "415"})
    alice.advance(120)
    assert alice.number(active["id"])["status"] == "active"
    bobs = bob.buy(search={"area_code": "415"})
    released = _released_hold(bob)
    held = {pending["phone_number"], active["phone_number"], bobs["phone_number"], released}
    # Nobody sees them: neither the holder nor the other account, whatever the filter.
    for who in (alice, bob):
        for params in ({"area_code": "415", "limit": 100}, {"area_code": "310", "limit": 100},
                       {"limit": 100}, {"country": "US", "type": "local", "limit": 100}):
            offered = {x["phone_number"] for x in who.search(**params)}
            assert not offered & held, params
        for number in held:
            assert who.search(prefix=number) == []
            assert who.search(contains=nsn(number)) == []
    # The numbers exist in the carrier's inventory: a free neighbour is still found by prefix.
    free = alice.search(area_code="415", limit=1)[0]["phone_number"]
    assert alice.search(prefix=free)[0]["phone_number"] == free
    # And they are the ones the database says are held.
    rows = query(db_url, "SELECT phone_number FROM phone_numbers WHERE returned_at IS NULL")
    assert {r[0] for r in rows} == held
