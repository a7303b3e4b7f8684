"""Opaque, prefixed, roughly time-ordered identifiers (``num_…``, ``agt_…``)."""

from __future__ import annotations

import base64
import os
import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case
# RFC 4648 base32 → the same alphabet, for ids made in bulk.
_FROM_RFC4648 = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _ALPHABET.encode())


def _b32(value: int, length: int) -> str:
    out = []
    for _ in range(length):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def new_id(prefix: str) -> str:
    """``prefix_`` + 10 chars of milliseconds + 12 random chars (sortable by creation)."""
    return f"{prefix}_{_b32(time.time_ns() // 1_000_000, 10)}{_b32(secrets.randbits(60), 12)}"


def new_ids(prefix: str, n: int) -> list[str]:
    """``n`` ids shaped like ``new_id(prefix)``, sharing one time part: fast in bulk (ingest)."""
    head = new_id(prefix)[: len(prefix) + 11]
    rnd = base64.b32encode(os.urandom(10 * n)).translate(_FROM_RFC4648).decode()
    return [head + rnd[16 * i:16 * i + 12] for i in range(n)]
