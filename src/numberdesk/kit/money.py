"""Exact money: integer minor units in storage, decimal strings on the wire."""

from __future__ import annotations

from decimal import Decimal

EXPONENT = {"USD": 2, "CAD": 2, "GBP": 2, "EUR": 2}


def to_decimal(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-EXPONENT.get(currency, 2))


def money(minor: int, currency: str) -> dict[str, str]:
    exp = EXPONENT.get(currency, 2)
    return {"amount": f"{to_decimal(minor, currency):.{exp}f}", "currency": currency}


def fmt(minor: int, currency: str) -> str:
    symbol = {"USD": "$", "CAD": "CA$", "GBP": "£", "EUR": "€"}.get(currency, currency + " ")
    return f"{symbol}{to_decimal(minor, currency):,.2f}"
