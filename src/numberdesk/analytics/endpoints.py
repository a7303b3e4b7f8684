"""Routes for call analytics (JSON and CSV)."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from numberdesk.analytics import service
from numberdesk.api.deps import ReadCtx
from numberdesk.api.problems import problem_responses

router = APIRouter(prefix="/v1", tags=["analytics"])
ERRORS = problem_responses(401, 403, 404, 422)
TimeParam = Annotated[str | None, Query(max_length=40, description="A date (local midnight) or an RFC 3339 time")]
GranularityParam = Annotated[Literal["hour", "day", "week"], Query()]


class SeriesPoint(BaseModel):
    start: str
    local_start: str
    calls: int
    answered: int
    missed: int
    avg_duration_seconds: float | None


class HourCount(BaseModel):
    hour: int
    calls: int


class AnalyticsOut(BaseModel):
    total_calls: int
    answered_calls: int
    missed_calls: int
    missed_rate: float
    avg_duration_seconds: float | None
    busy_hour: int | None
    series: list[SeriesPoint]
    hour_of_day: list[HourCount]
    timezone: str
    granularity: str
    from_: str = Field(alias="from")
    to: str
    number_id: str | None
    agent_id: str | None
    source: str = Field(description="rollup, or raw when the call records were read directly")


def _result(ctx: Any, from_: str | None, to: str | None, granularity: str, number_id: str | None,
            agent_id: str | None) -> dict[str, Any]:
    p = service.period(ctx, from_, to, granularity)
    return service.analytics(ctx, p, number_id=number_id, agent_id=agent_id)


@router.get("/analytics", response_model=AnalyticsOut, responses=ERRORS)
def get_analytics(
    ctx: ReadCtx,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: TimeParam = None,
    granularity: GranularityParam = "day",
    number_id: Annotated[str | None, Query(max_length=40)] = None,
    agent_id: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, Any]:
    """Call volume, answered and missed calls, average duration of answered calls and the busy hour.

    For the account, one number (`number_id`) or one agent (`agent_id`), over
    [`from`, `to`) (default: the last 30 days), in the account's time zone: a
    date means local midnight, `day` and `week` buckets start at local midnight
    (weeks on Monday) and are DST-correct; `busy_hour` is the local hour of day
    (0 to 23) with the most calls. Missed = `no_answer`, `busy`, `failed`, `canceled`.
    """
    return _result(ctx, from_, to, granularity, number_id, agent_id)


@router.get("/analytics.csv", response_class=Response, responses=ERRORS)
def export_analytics(
    ctx: ReadCtx,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: TimeParam = None,
    granularity: GranularityParam = "day",
    number_id: Annotated[str | None, Query(max_length=40)] = None,
    agent_id: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """The series of `GET /v1/analytics` as CSV (one row per bucket)."""
    result = _result(ctx, from_, to, granularity, number_id, agent_id)
    buf = io.StringIO()
    csv.writer(buf).writerows(service.series_csv_rows(result))
    name = f"analytics-{result['granularity']}.csv"
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
