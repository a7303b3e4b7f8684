"""Opaque, prefixed, roughly time-ordered identifiers (``num_…``, ``agt_…``)."""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def _b32(value: int, length: int) -> str:
    out = []
    for _ in range(length):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def new_id(prefix: str) -> str:
    """``prefix_`` + 10 chars of milliseconds + 12 random chars (sortable by creation)."""
    return f"{prefix}_{_b32(time.time_ns() // 1_000_000, 10)}{_b32(secrets.randbits(60), 12)}"
