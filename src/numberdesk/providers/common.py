"""What the HTTP carriers share: reading a search the carrier only half understands,
money from decimal strings, and describing a number from its digits.

A carrier's own filters are looser than ours (Twilio's ``Contains`` matches the
country code too, Telnyx has no wildcards), so the adapters send what the carrier
understands and check every result against the whole query here.
"""

from __future__ import annotations

import datetime as dt
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import phonenumbers
from phonenumbers import PhoneNumberType, geocoder

from numberdesk.errors import CarrierError
from numberdesk.kit.money import EXPONENT
from numberdesk.providers.base import COUNTRIES, TYPES, Exclude, Listing, SearchQuery, keypad_digits

__all__ = [
    "COUNTRIES",
    "TYPES",
    "area_code_of",
    "candidate_types",
    "describe",
    "matches",
    "minor_units",
    "nanp",
    "national_digits",
    "nsn_of",
    "parse_time",
    "prefix_national",
    "search_plan",
    "similar_via",
]

_DIGITS = re.compile(r"\D+")


def minor_units(amount: str | Decimal | None, currency: str) -> int:
    """A carrier's decimal price string as integer minor units (``"1.15"`` USD → 115), exact."""
    if amount is None or amount == "":
        return 0
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise CarrierError(f"The carrier sent a price that is not a number: {amount!r}.") from None
    scaled = value.scaleb(EXPONENT.get(currency.upper(), 2))
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def nanp(country: str) -> bool:
    return country.upper() in ("US", "CA")


def national_digits(text: str, country: str | None) -> str:
    """Digits of a national prefix or area code without the trunk prefix (GB ``020`` → ``20``)."""
    digits = _DIGITS.sub("", text)
    if country and not nanp(country) and digits.startswith("0"):
        return digits[1:]
    return digits


def nsn_of(e164: str) -> tuple[str, str]:
    """(country code digits, national significant number) of an E.164 number."""
    num = phonenumbers.parse(e164, None)
    return str(num.country_code), phonenumbers.national_significant_number(num)


def area_code_of(e164: str) -> str | None:
    return Listing(e164, "", "local", True, False, False, None, None, 0, 0, "USD").area_code


def candidate_types(e164: str) -> list[str]:
    """Our number types this number may be listed under, likeliest first."""
    try:
        kind = phonenumbers.number_type(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return list(TYPES)
    if kind == PhoneNumberType.TOLL_FREE:
        return ["toll_free"]
    if kind == PhoneNumberType.MOBILE:
        return ["mobile"]
    if kind == PhoneNumberType.FIXED_LINE:
        return ["local"]
    if kind == PhoneNumberType.FIXED_LINE_OR_MOBILE:
        return ["local", "mobile"]  # NANP numbers do not tell
    return list(TYPES)


def describe(e164: str) -> tuple[str, str, str | None, str | None]:
    """(country, likeliest type, locality, region) of a number, from its digits alone."""
    num = phonenumbers.parse(e164, None)
    country = phonenumbers.region_code_for_number(num) or ""
    place = geocoder.description_for_number(num, "en") or ""
    locality, region = place or None, None
    if nanp(country):
        # NANP: "San Francisco, CA" for a known exchange, else just the state or province.
        locality, region = place.rsplit(", ", 1) if ", " in place else (None, place or None)
    return country, candidate_types(e164)[0], locality, region


def _contains_regex(pattern: str) -> re.Pattern[str]:
    digits = keypad_digits(pattern)
    return re.compile("".join(r"\d" if c == "*" else c for c in digits))


def matches(listing: Listing, query: SearchQuery) -> bool:
    """True when the listing meets every filter of the query, as the sandbox reads them."""
    if query.country and listing.country != query.country.upper():
        return False
    if query.type and listing.type != query.type:
        return False
    if not query.capabilities <= listing.capabilities:
        return False
    cc, nsn = nsn_of(listing.phone_number)
    if query.area_code and query.area_code.strip():
        if listing.area_code != national_digits(query.area_code, listing.country):
            return False
    if query.prefix and query.prefix.strip():
        text = query.prefix.strip()
        if text.startswith("+"):
            if not listing.phone_number.startswith("+" + _DIGITS.sub("", text)):
                return False
        else:
            national = _DIGITS.sub("", text)
            if cc == "1" and national.startswith("1"):
                national = national[1:]
            elif cc != "1" and national.startswith("0"):
                national = national[1:]
            if not nsn.startswith(national):
                return False
    if query.contains and query.contains.strip():
        if _contains_regex(query.contains.strip()).search(nsn) is None:
            return False
    if query.locality and query.locality.strip():
        if query.locality.strip().lower() not in (listing.locality or "").lower():
            return False
    return True


def search_plan(query: SearchQuery) -> list[tuple[str, str]]:
    """The (country, type) pairs to ask the carrier about, in order (carriers search one at a time)."""
    countries = [query.country.upper()] if query.country else list(COUNTRIES)
    types = [query.type] if query.type else list(TYPES)
    return [(c, t) for c in countries for t in types]


def prefix_national(query: SearchQuery, country: str) -> str | None:
    """The national digits a prefix asks for in ``country``; None when it excludes the country."""
    if not (query.prefix and query.prefix.strip()):
        return ""
    text = query.prefix.strip()
    cc = str(phonenumbers.country_code_for_region(country))
    if text.startswith("+"):
        digits = _DIGITS.sub("", text)
        if len(digits) <= len(cc):
            return "" if cc.startswith(digits) else None
        return digits[len(cc):] if digits.startswith(cc) else None
    national = _DIGITS.sub("", text)
    if cc == "1" and national.startswith("1"):
        return national[1:]
    if cc != "1" and national.startswith("0"):
        return national[1:]
    return national


def similar_via(search: Callable[[SearchQuery], list[Listing]], phone_number: str, limit: int) -> list[Listing]:
    """Numbers for sale like ``phone_number``: same country and type, its area code first."""
    try:
        country, type_, _, _ = describe(phone_number)
    except phonenumbers.NumberParseException:
        return []
    if not country or limit <= 0:
        return []
    out: list[Listing] = []
    code = area_code_of(phone_number)
    for area in ([code] if code else []) + [None]:
        if len(out) >= limit:
            break
        seen = {x.phone_number for x in out} | {phone_number}
        query = SearchQuery(country=country, type=type_, area_code=area, limit=limit + len(seen))
        out.extend(x for x in search(query) if x.phone_number not in seen)
    return out[:limit]


def parse_time(value: object) -> dt.datetime | None:
    """An ISO 8601 time from a carrier as an aware UTC datetime; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


class CarrierSearch(ABC):
    """``search`` and ``lookup`` for a carrier whose API searches one (country, type) at a
    time: the subclass supplies ``_search_one(country, type_, query, want)``."""

    @abstractmethod
    def _search_one(self, country: str, type_: str, query: SearchQuery, want: int) -> list[Listing]:
        """Up to ``want`` listings of one country and type that match ``query``."""

    def search(self, session: object, query: SearchQuery, now: dt.datetime, *,
               exclude: Exclude | None = None) -> list[Listing]:
        out: list[Listing] = []
        for country, type_ in search_plan(query):
            if len(out) >= query.limit:
                break
            found = self._search_one(country, type_, query, query.limit - len(out))
            if exclude is not None and found:
                taken = exclude([x.phone_number for x in found])
                found = [x for x in found if x.phone_number not in taken]
            out.extend(found)
        return out[:query.limit]

    def lookup(self, session: object, phone_number: str, now: dt.datetime, *,
               exclude: Exclude | None = None) -> Listing | None:
        """The listing of exactly this number, if the carrier has it for sale."""
        try:
            country = phonenumbers.region_code_for_number(phonenumbers.parse(phone_number, None))
        except phonenumbers.NumberParseException:
            return None
        if not country or (exclude is not None and exclude([phone_number])):
            return None
        for type_ in candidate_types(phone_number):
            query = SearchQuery(country=country, type=type_, prefix=phone_number, limit=1)
            for listing in self._search_one(country, type_, query, 1):
                if listing.phone_number == phone_number:
                    return listing
        return None
