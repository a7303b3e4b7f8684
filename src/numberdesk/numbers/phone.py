"""Parsing and formatting of phone numbers, always through ``phonenumbers``."""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType, geocoder

from numberdesk.errors import ValidationFailed

SUPPORTED_COUNTRIES = ("US", "CA", "GB")


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


def area_code(e164: str) -> str | None:
    parsed = phonenumbers.parse(e164)
    nsn = phonenumbers.national_significant_number(parsed)
    length = phonenumbers.length_of_geographical_area_code(parsed)
    if parsed.country_code == 1:
        return nsn[:3]
    return nsn[:length] if length else None


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
