"""Problem details (RFC 9457) in the OpenAPI document: every route lists the errors it answers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    code: str
    model_config = ConfigDict(extra="allow")


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": Problem, "content": {"application/problem+json": {}}} for s in statuses}
