"""The sandbox carrier's inventory: generation, search semantics, cache.

Search results are checked against a brute-force reference (filter every
listing in inventory order), with each candidate strategy of the engine forced
in turn, so the fast paths can't drift from the plain meaning of the filters.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from pathlib import Path

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType, geocoder

from numberdesk.providers.base import Listing, keypad_digits
from numberdesk.providers.sandbox import inventory as inventory_module
from numberdesk.providers.sandbox.inventory import CAPABILITY_TABLE, PRICE_TABLE, Inventory

SEED = 7
SIZE = 20_000
SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(scope="module")
def inv() -> Inventory:
    return Inventory.build(SEED, SIZE)


@pytest.fixture(scope="module")
def listings(inv: Inventory) -> list[Listing]:
    return list(inv)


@pytest.fixture(params=[None, "scan", "gram", "place"])
def strategy(request, monkeypatch):
    """Run a test once per candidate strategy (None = the engine's own choice)."""
    monkeypatch.setattr(Inventory, "_force_strategy", request.param)
    return request.param


def nsn(listing: Listing) -> str:
    return listing.phone_number[2:] if listing.phone_number.startswith("+1") else listing.phone_number[3:]


def reference(listings, *, country=None, type=None, area_code=None, prefix=None, contains=None,
              capabilities=frozenset(), locality=None, limit=20, held=frozenset()):
    """The plain meaning of the search filters."""
    rx = None
    if contains:
        rx = re.compile("".join(r"\d" if c == "*" else c for c in keypad_digits(contains)))
    out = []
    for listing in listings:
        n = nsn(listing)
        if country and listing.country != country.upper():
            continue
        if type and listing.type != type:
            continue
        if area_code:
            wanted = area_code[1:] if listing.country == "GB" and area_code.startswith("0") else area_code
            if listing.area_code != wanted:
                continue
        if prefix:
            p = prefix.replace(" ", "")
            if p.startswith("+"):
                if not listing.phone_number.startswith(p):
                    continue
            else:
                if listing.country == "GB" and p.startswith("0"):
                    p = p[1:]
                elif listing.country != "GB" and p.startswith("1"):
                    p = p[1:]
                if not n.startswith(p):
                    continue
        if rx is not None and not rx.search(n):
            continue
        if not set(capabilities) <= listing.capabilities:
            continue
        if locality and (listing.locality is None or locality.lower() not in listing.locality.lower()):
            continue
        if listing.phone_number in held:
            continue
        out.append(listing)
        if len(out) >= limit:
            break
    return out


# -- generation ------------------------------------------------------------------
def test_size_mix_and_no_duplicates(inv: Inventory, listings: list[Listing]) -> None:
    assert len(inv) == SIZE == len(listings)
    assert len({x.phone_number for x in listings}) == SIZE
    by_country = {c: sum(1 for x in listings if x.country == c) for c in ("US", "CA", "GB")}
    assert by_country == {"US": 14_000, "CA": 3_000, "GB": 3_000}
    for country, total in by_country.items():
        types = {t: sum(1 for x in listings if x.country == country and x.type == t)
                 for t in ("local", "mobile", "toll_free")}
        assert types == {"local": total * 70 // 100, "mobile": total * 20 // 100,
                         "toll_free": total * 10 // 100}
    assert inv.counts()[("GB", "toll_free")] == 300


def test_sample_is_valid_typed_and_geocoded(listings: list[Listing]) -> None:
    rng = random.Random(1)
    sample = rng.sample(listings, 1500)
    seen_types = set()
    for x in sample:
        num = phonenumbers.parse(x.phone_number, None)
        assert phonenumbers.format_number(num, PhoneNumberFormat.E164) == x.phone_number
        assert phonenumbers.is_valid_number(num), x
        assert phonenumbers.is_valid_number_for_region(num, x.country), x
        kind = phonenumbers.number_type(num)
        seen_types.add((x.country, x.type))
        if x.type == "toll_free":
            assert kind == PhoneNumberType.TOLL_FREE
            if x.country == "GB":
                assert x.phone_number[3:6] in ("800", "808")
            else:
                assert x.phone_number[2:5] in ("800", "888", "877", "866", "855", "844", "833")
            assert x.locality is None and x.region is None
        else:
            assert phonenumbers.region_code_for_number(num) == x.country, x
            if x.country == "GB":
                expected = PhoneNumberType.MOBILE if x.type == "mobile" else PhoneNumberType.FIXED_LINE
                assert kind == expected, x
            else:  # NANP can't tell mobile from fixed lines
                assert kind == PhoneNumberType.FIXED_LINE_OR_MOBILE
        if x.country == "GB" and x.type == "mobile":
            assert x.phone_number.startswith("+447")
            assert x.locality is None
        elif x.type != "toll_free":
            description = geocoder.description_for_number(num, "en")
            if x.country == "GB":
                assert x.locality == description and x.region is None
            else:
                assert f"{x.locality}, {x.region}" == description
        assert x.national_format == phonenumbers.format_number(num, PhoneNumberFormat.NATIONAL)
        ndc = phonenumbers.length_of_national_destination_code(num)
        assert x.area_code == phonenumbers.national_significant_number(num)[:ndc]
        assert x.currency == ("GBP" if x.country == "GB" else "USD")
        assert (x.monthly_price_minor, x.setup_price_minor) == PRICE_TABLE[(x.country, x.type)]
        assert (x.voice, x.sms, x.mms) == CAPABILITY_TABLE[(x.country, x.type)]
    assert len(seen_types) == 9


def test_capability_and_price_table() -> None:
    assert CAPABILITY_TABLE[("US", "local")] == (True, True, False)
    assert CAPABILITY_TABLE[("GB", "local")] == (True, False, False)
    for country in ("US", "CA", "GB"):
        assert CAPABILITY_TABLE[(country, "mobile")] == (True, True, True)
    assert PRICE_TABLE[("US", "local")] == (115, 0)
    assert PRICE_TABLE[("GB", "toll_free")] == (1500, 500)
    assert all(isinstance(m, int) and isinstance(s, int) and m > 0 for m, s in PRICE_TABLE.values())


def test_real_localities(inv: Inventory) -> None:
    sf = inv.search(country="US", area_code="415", locality="san francisco", limit=5)
    assert sf and all(x.locality == "San Francisco" and x.region == "CA" for x in sf)
    assert sf[0].national_format.startswith("(415) ")
    toronto = inv.search(area_code="416", limit=50)
    assert toronto and all(x.country == "CA" and x.region == "ON" for x in toronto)
    assert any(x.locality == "Toronto" for x in toronto)
    london = inv.search(country="GB", area_code="020", limit=5)
    assert london and all(x.locality == "London" and x.area_code == "20" for x in london)
    assert london[0].national_format.startswith("020 ")


def test_deterministic_in_process() -> None:
    a, b = Inventory.build(3, 4000), Inventory.build(3, 4000)
    assert a == b
    assert a.fingerprint() == b.fingerprint()
    assert list(a) == list(b)
    c = Inventory.build(4, 4000)
    assert a != c and a.fingerprint() != c.fingerprint()


def test_deterministic_across_hash_seeds() -> None:
    code = ("from numberdesk.providers.sandbox.inventory import Inventory;"
            "print(Inventory.build(3, 4000).fingerprint())")
    prints = []
    for hash_seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(SRC)}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True)
        prints.append(out.stdout.strip())
    assert prints[0] == prints[1] == Inventory.build(3, 4000).fingerprint()


def test_tiny_and_empty_sizes() -> None:
    assert len(Inventory.build(1, 0)) == 0
    assert Inventory.build(1, 0).search() == []
    tiny = Inventory.build(1, 10)
    assert len(tiny) == 10
    assert len(tiny.search(limit=100)) == 10
    with pytest.raises(ValueError):
        Inventory.build(1, -1)


# -- keypad ---------------------------------------------------------------------
def test_keypad_digits() -> None:
    assert keypad_digits("CALL") == "2255"
    assert keypad_digits("call") == "2255"
    assert keypad_digits("1800FLOWERS") == "18003569377"
    assert keypad_digits("PQRS*WXYZ") == "7777*9999"
    assert keypad_digits("*2*") == "*2*"
    assert keypad_digits("") == ""
    for bad in ("CALL-NOW", "12 34", "#1", "+1", "é", "٣"):
        with pytest.raises(ValueError):
            keypad_digits(bad)


# -- search ---------------------------------------------------------------------
def test_contains_letters_and_digits(inv: Inventory, listings, strategy) -> None:
    letters = inv.search(contains="CALL", limit=1000)
    assert letters == inv.search(contains="2255", limit=1000) == inv.search(contains="call", limit=1000)
    assert letters == reference(listings, contains="2255", limit=1000)
    assert letters and all("2255" in nsn(x) for x in letters)


def test_star_is_exactly_one_digit(inv: Inventory, listings, strategy) -> None:
    res = inv.search(contains="9*9*9", limit=1000)
    assert res and all(re.search(r"9\d9\d9", nsn(x)) for x in res)
    assert res == reference(listings, contains="9*9*9", limit=1000)
    assert inv.search(contains="*" * 10, limit=5) == listings[:5]
    assert inv.search(contains="*" * 11) == []
    assert inv.search(contains="**12345", limit=500) == reference(listings, contains="**12345", limit=500)


QUERIES = [
    dict(),
    dict(country="US"),
    dict(country="gb", type="mobile"),
    dict(type="toll_free", contains="*00*"),
    dict(area_code="415"),
    dict(area_code="212", contains="7"),
    dict(country="GB", area_code="020", contains="*0*0"),
    dict(country="GB", area_code="161"),
    dict(prefix="+1415"),
    dict(prefix="415", contains="55"),
    dict(prefix="1415"),
    dict(prefix="+44 20"),
    dict(prefix="020", country="GB"),
    dict(prefix="+4"),
    dict(prefix="+33"),
    dict(contains="2255"),
    dict(contains="LAWYER"),
    dict(contains="1234", country="CA"),
    dict(contains="0000", type="local", area_code="416"),
    dict(contains="12*4"),
    dict(capabilities=frozenset({"mms"})),
    dict(capabilities=frozenset({"sms"}), country="GB"),
    dict(capabilities=frozenset({"voice", "sms"}), contains="777"),
    dict(locality="san"),
    dict(locality="SAN FRANCISCO", contains="5"),
    dict(locality="toronto", type="mobile"),
    dict(locality="London", contains="20*1"),
    dict(locality="zzzz-nowhere"),
    dict(country="FR"),
]


def _query_id(q: dict[str, object]) -> str:
    # Sets are spelled sorted: test ids must not depend on the hash seed (xdist
    # workers each collect the tests and must agree on their names).
    def show(v: object) -> str:
        return "+".join(sorted(v)) if isinstance(v, frozenset) else str(v)

    return ",".join(f"{k}={show(v)}" for k, v in q.items()) or "all"


@pytest.mark.parametrize("query", QUERIES, ids=_query_id)
def test_search_matches_reference(inv: Inventory, listings, query, strategy) -> None:
    for limit in (1, 20, 400):
        got = inv.search(**query, limit=limit)
        assert got == reference(listings, **query, limit=limit)


def test_filters_hold_on_results(inv: Inventory) -> None:
    for x in inv.search(country="CA", type="mobile", limit=50):
        assert (x.country, x.type, x.mms) == ("CA", "mobile", True)
    for x in inv.search(area_code="415", limit=50):
        assert x.area_code == "415" and x.phone_number.startswith("+1415")
    for x in inv.search(prefix="+1415555", limit=50):
        assert x.phone_number.startswith("+1415555")
    assert inv.search(prefix="+1415", limit=50) == inv.search(prefix="415", limit=50)
    for x in inv.search(locality="SAN", limit=50):
        assert "san" in x.locality.lower()
    assert {x.type for x in inv.search(capabilities=frozenset({"mms"}), limit=500)} == {"mobile"}
    gb_sms = inv.search(country="GB", capabilities=frozenset({"sms"}), limit=10_000)
    assert gb_sms and {x.type for x in gb_sms} == {"mobile"}


def test_results_are_in_a_stable_order(inv: Inventory, listings) -> None:
    order = {x.phone_number: i for i, x in enumerate(listings)}
    res = inv.search(contains="42", limit=300)
    positions = [order[x.phone_number] for x in res]
    assert positions == sorted(positions)
    assert inv.search(contains="42", limit=300) == res


def test_invalid_arguments(inv: Inventory) -> None:
    with pytest.raises(ValueError):
        inv.search(contains="CALL-ME")
    with pytest.raises(ValueError):
        inv.search(type="landline")
    with pytest.raises(ValueError):
        inv.search(capabilities=frozenset({"fax"}))
    with pytest.raises(ValueError):
        inv.search(area_code="4x5")
    with pytest.raises(ValueError):
        inv.search(prefix="+1abc")
    assert inv.search(limit=0) == []
    assert inv.search(country="FR") == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pattern=st.text(alphabet="0123456789*ABCXYZ", min_size=1, max_size=6),
       country=st.sampled_from([None, "US", "CA", "GB"]))
def test_contains_property(inv: Inventory, listings, pattern, country) -> None:
    got = inv.search(contains=pattern, country=country, limit=50)
    assert got == reference(listings, contains=pattern, country=country, limit=50)


# -- exclude --------------------------------------------------------------------
def test_exclude_is_batched_and_scanning_continues(inv: Inventory, listings, strategy) -> None:
    plain = reference(listings, contains="5", limit=200)
    held = {x.phone_number for x in plain[:150]}  # the first 150 matches are held
    calls: list[list[str]] = []

    def exclude(batch: list[str]) -> set[str]:
        calls.append(list(batch))
        return held & set(batch)

    got = inv.search(contains="5", limit=20, exclude=exclude)
    assert got == reference(listings, contains="5", limit=20, held=held)
    assert not {x.phone_number for x in got} & held
    assert len(got) == 20
    assert all(len(batch) > 1 for batch in calls)
    assert len(calls) < 15  # batched, not one call per candidate
    seen = [p for batch in calls for p in batch]
    assert len(seen) == len(set(seen))  # no candidate asked twice


def test_exclude_everything_exhausts_the_inventory(inv: Inventory) -> None:
    asked: list[str] = []

    def exclude(batch: list[str]) -> set[str]:
        asked.extend(batch)
        return set(batch)

    assert inv.search(country="GB", type="toll_free", exclude=exclude) == []
    assert len(asked) == inv.counts()[("GB", "toll_free")]


def test_exclude_may_return_any_iterable(inv: Inventory) -> None:
    first = inv.search(limit=3)
    got = inv.search(limit=3, exclude=lambda batch: [first[0].phone_number])
    assert got[:2] == first[1:]
    assert inv.search(limit=3, exclude=lambda batch: None) == first


# -- get ------------------------------------------------------------------------
def test_get(inv: Inventory, listings) -> None:
    for x in random.Random(2).sample(listings, 500):
        assert inv.get(x.phone_number) == x
        assert x.phone_number in inv
    assert inv.get("+14155550000") in (None, *[x for x in listings if x.phone_number == "+14155550000"])
    for bad in ("", "14155550123", "+1 415 555 0123", "+44", "hello", "+0123"):
        assert inv.get(bad) is None
    absent = next(p for p in (f"+1415555{i:04d}" for i in range(10_000))
                  if p not in {x.phone_number for x in listings})
    assert inv.get(absent) is None


# -- similar --------------------------------------------------------------------
def test_similar_same_area_code_first_then_nearest(inv: Inventory, listings) -> None:
    target = inv.search(country="US", type="local", area_code="415", limit=1)[0]
    same_code = [x for x in listings if x.country == "US" and x.type == "local" and x.area_code == "415"]
    res = inv.similar(target.phone_number, limit=len(same_code) + 5)
    assert target not in res
    assert all(x.country == "US" and x.type == "local" for x in res)
    head = res[:len(same_code) - 1]
    assert {x.phone_number for x in head} == {x.phone_number for x in same_code} - {target.phone_number}
    t = int(nsn(target))
    distances = [abs(int(nsn(x)) - t) for x in head]
    assert distances == sorted(distances)
    tail = res[len(same_code) - 1:]
    assert tail and all(x.area_code != "415" for x in tail)
    tail_distances = [abs(int(nsn(x)) - t) for x in tail]
    assert tail_distances == sorted(tail_distances)


def test_similar_with_exclude_and_unknown_numbers(inv: Inventory, listings) -> None:
    target = inv.search(country="GB", type="mobile", limit=1)[0]
    first = inv.similar(target.phone_number, limit=5)
    assert len(first) == 5 and all(x.country == "GB" and x.type == "mobile" for x in first)
    held = {first[0].phone_number, first[2].phone_number}
    again = inv.similar(target.phone_number, limit=5, exclude=lambda b: held & set(b))
    assert again[:3] == [first[1], first[3], first[4]] and not held & {x.phone_number for x in again}
    # a number the sandbox never had (e.g. one ported from elsewhere)
    absent = next(p for p in (f"+1415555{i:04d}" for i in range(10_000))
                  if inv.get(p) is None and phonenumbers.is_valid_number(phonenumbers.parse(p)))
    res = inv.similar(absent, limit=3)
    assert len(res) == 3 and all(x.country == "US" and x.type == "local" for x in res)
    assert res[0].area_code == "415"
    assert inv.similar("+33612345678") == []
    with pytest.raises(ValueError):
        inv.similar("not a number")


# -- cache ----------------------------------------------------------------------
def test_cache_round_trip(tmp_path: Path, monkeypatch) -> None:
    fresh = Inventory.build(5, 3000)
    cached = Inventory.build(5, 3000, cache_dir=tmp_path / "cache")
    files = list((tmp_path / "cache").iterdir())
    assert [f.name for f in files] == [Inventory.cache_file_name(5, 3000)]
    name = files[0].name
    assert "seed5" in name and "size3000" in name and f"v{inventory_module.FORMAT_VERSION}" in name
    assert cached == fresh

    def no_generation(*args, **kwargs):
        raise AssertionError("should load from the cache")

    monkeypatch.setattr(inventory_module, "_generate", no_generation)
    loaded = Inventory.build(5, 3000, cache_dir=tmp_path / "cache")
    assert loaded == fresh and loaded.fingerprint() == fresh.fingerprint()
    assert list(loaded) == list(fresh)
    for query in (dict(contains="CALL"), dict(area_code="415"), dict(locality="san", limit=50),
                  dict(prefix="+44", type="mobile")):
        assert loaded.search(**query) == fresh.search(**query)
    some = fresh.search(limit=50)[-1]
    assert loaded.get(some.phone_number) == some
    assert loaded.similar(some.phone_number) == fresh.similar(some.phone_number)


def test_corrupt_or_foreign_cache_is_rebuilt(tmp_path: Path) -> None:
    fresh = Inventory.build(6, 2000, cache_dir=tmp_path)
    path = tmp_path / Inventory.cache_file_name(6, 2000)
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    assert Inventory.build(6, 2000, cache_dir=tmp_path) == fresh
    path.write_bytes(b"garbage")
    assert Inventory.build(6, 2000, cache_dir=tmp_path) == fresh
    assert Inventory.build(6, 2000, cache_dir=tmp_path) == fresh  # the rewritten file loads
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temp files left
