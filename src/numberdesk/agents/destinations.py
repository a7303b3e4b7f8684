"""Agent destinations: a SIP URI, an E.164 number or a ``wss://`` stream. Pure, no I/O."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from numberdesk.errors import ValidationFailed
from numberdesk.kit import phone

_SIP = re.compile(r"^sips?:(?:[A-Za-z0-9._~!$&'()*+,;=%-]+@)?[A-Za-z0-9.-]+(?::\d{1,5})?(?:;[^\s]*)?$")


def destination_kind(destination: str) -> str:
    """``sip``, ``phone`` or ``stream``; the routing layer answers each differently."""
    if destination.startswith(("sip:", "sips:")):
        return "sip"
    if destination.startswith("wss://"):
        return "stream"
    return "phone"


def validate_destination(destination: str, field: str = "destination") -> str:
    """A SIP URI, an E.164 number or a ``wss://`` URL; anything else is a 422."""
    d = (destination or "").strip()
    if not d or len(d) > 500:
        raise ValidationFailed.field(field, "must be a SIP URI, an E.164 number or a wss:// URL")
    if d.startswith(("sip:", "sips:")):
        if not _SIP.match(d):
            raise ValidationFailed.field(field, f"{d!r} is not a SIP URI such as sip:agent@example.com")
        return d
    if d.startswith("wss://"):
        parts = urlsplit(d)
        if not parts.hostname or " " in d:
            raise ValidationFailed.field(field, f"{d!r} is not a wss:// URL with a host")
        return d
    if d.startswith(("ws://", "http://", "https://")):
        raise ValidationFailed.field(field, "stream destinations must use wss:// (TLS)")
    return phone.parse(d, field)
