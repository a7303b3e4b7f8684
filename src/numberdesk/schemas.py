"""Shared wire shapes: money, lists, problems."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class Body(BaseModel):
    """Base of every request body: unknown fields are a 422."""

    model_config = ConfigDict(extra="forbid")


class MoneyOut(BaseModel):
    amount: str
    currency: str


class Page(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str | None = None


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    code: str
    model_config = ConfigDict(extra="allow")


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": Problem, "content": {"application/problem+json": {}}} for s in statuses}
