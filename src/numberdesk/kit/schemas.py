"""Shared wire shapes: request bodies, money, lists."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, field_validator

T = TypeVar("T")


def has_nul(value: Any) -> bool:
    """Whether a NUL character hides in the value (PostgreSQL text cannot store one)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple | set | frozenset):
        return any(has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    return False


class Body(BaseModel):
    """Base of every request body: unknown fields and NUL characters are a 422."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # Refused alike on SQLite (which would store it) and PostgreSQL (which cannot).
        if has_nul(value):
            raise ValueError("must not contain NUL characters")
        return value


class MoneyOut(BaseModel):
    amount: str
    currency: str


class Page(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str | None = None
