"""Parsing and formatting of phone numbers, always through ``phonenumbers``."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberFormat, PhoneNumberType, geocoder

from numberdesk.errors import ValidationFailed


def parse(text: str, field: str = "phone_number", default_region: str = "US") -> str:
    """Any form a person types → E.164; 422 naming ``field`` when it is not a valid number."""
    if not isinstance(text, str) or not text.strip() or len(text) > 40:
        raise ValidationFailed.field(field, "must be a phone number such as +14155552671")
    try:
        parsed = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed.field(field, f"{text!r} is not a phone number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationFailed.field(field, f"{text!r} is not a valid phone number")
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)


def national_format(e164: str) -> str:
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164), PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        return e164


def country_of(e164: str) -> str | None:
    return phonenumbers.region_code_for_number(phonenumbers.parse(e164))


def describe(e164: str) -> str:
    return geocoder.description_for_number(phonenumbers.parse(e164), "en")


def is_mobile(e164: str) -> bool:
    return phonenumbers.number_type(phonenumbers.parse(e164)) == PhoneNumberType.MOBILE


_STATE_CODES: dict[str, str] | None = None


def _state_codes() -> dict[str, str]:
    """State/province name → code, learned from the geocoder itself: an area code it
    names "California" has exchanges it names "Oakland, CA"."""
    global _STATE_CODES
    if _STATE_CODES is None:
        from phonenumbers.geodata import GEOCODE_DATA

        names: dict[str, str] = {}
        for key, desc in GEOCODE_DATA.items():
            if len(key) == 4 and key[0] == "1" and "," not in desc.get("en", ","):
                names[key] = desc["en"]
        codes: dict[str, str] = {}
        for key, desc in GEOCODE_DATA.items():
            if len(key) == 7 and key[:4] in names and names[key[:4]] not in codes:
                tail = desc.get("en", "").rsplit(", ", 1)
                if len(tail) == 2 and len(tail[1]) == 2 and tail[1].isupper():
                    codes[names[key[:4]]] = tail[1]
        _STATE_CODES = codes
    return _STATE_CODES


def nanp_state(e164: str) -> str | None:
    """The two-letter state or province of a NANP number (+1 510… → "CA"), else None."""
    if not e164.startswith("+1"):
        return None
    described = describe(e164)
    tail = described.rsplit(", ", 1)
    if len(tail) == 2 and len(tail[1]) == 2 and tail[1].isupper():
        return tail[1]
    return _state_codes().get(described)


# -- fast paths for numbers already known to be valid E.164 (catalog listings) -------
def _to_phone_number(e164: str) -> PhoneNumber:
    digits = e164[1:]
    cc = "1" if digits.startswith("1") else "44" if digits.startswith("44") else None
    if cc is None:
        return phonenumbers.parse(e164, None)
    return PhoneNumber(country_code=int(cc), national_number=int(digits[len(cc):]))


@lru_cache(maxsize=65536)
def national_format_valid(e164: str) -> str:
    """``national_format`` for a number known to be valid, without re-parsing it."""
    return phonenumbers.format_number(_to_phone_number(e164), PhoneNumberFormat.NATIONAL)


_NON_DIGITS = re.compile(r"[^0-9]+")


def destination_code(e164: str) -> str | None:
    """NANP: the 3-digit area code.  Elsewhere: the national destination code
    (GB "20" London, "161" Manchester, "13873" Langholm, "7911" a mobile range).

    The NDC is what ``phonenumbers.length_of_national_destination_code`` takes:
    the first group after the country code in the international format.  (That
    function also runs ``number_type`` for the Argentine/Mexican mobile token,
    which doesn't concern GB; skipping it halves the cost at build time.)
    """
    if e164.startswith("+1"):
        return e164[2:5] if len(e164) == 12 else None
    num = _to_phone_number(e164)
    groups = _NON_DIGITS.split(phonenumbers.format_number(num, PhoneNumberFormat.INTERNATIONAL))
    if len(groups) <= 3:
        return None
    return groups[2]


destination_code_cached = lru_cache(maxsize=65536)(destination_code)
