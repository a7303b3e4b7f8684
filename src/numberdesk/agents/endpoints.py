"""Routes for agents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from numberdesk.agents import service
from numberdesk.agents.schemas import AgentOut, CreateAgent, UpdateAgent, agent_out
from numberdesk.api.deps import ReadCtx, WriteCtx
from numberdesk.api.problems import problem_responses
from numberdesk.kit import pagination
from numberdesk.kit.schemas import Page

router = APIRouter(prefix="/v1/agents", tags=["agents"])
ERRORS = problem_responses(401, 403, 404, 409, 422)


@router.post("", status_code=201, response_model=AgentOut, responses=ERRORS)
def create_agent(body: CreateAgent, ctx: WriteCtx) -> dict[str, object]:
    """Create an agent; `destination` is a SIP URI, an E.164 number or a `wss://` URL."""
    return agent_out(service.create(ctx, body.name, body.kind, body.destination), 0)


@router.get("", response_model=Page[AgentOut], responses=ERRORS)
def list_agents(
    ctx: ReadCtx,
    limit: Annotated[int, Query(ge=1, le=pagination.MAX_LIMIT)] = pagination.DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> dict[str, object]:
    after = pagination.decode(cursor, kinds=(str, str)) if cursor else None
    rows = service.list_agents(ctx, limit=limit, after=after)  # type: ignore[arg-type]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = pagination.encode(rows[-1].name, rows[-1].id)
    counts = service.number_counts(ctx, [a.id for a in rows])
    return {"data": [agent_out(a, counts.get(a.id, 0)) for a in rows], "next_cursor": next_cursor}


@router.get("/{agent_id}", response_model=AgentOut, responses=ERRORS)
def get_agent(agent_id: str, ctx: ReadCtx) -> dict[str, object]:
    a = service.get(ctx, agent_id)
    return agent_out(a, service.number_counts(ctx, [a.id]).get(a.id, 0))


@router.patch("/{agent_id}", response_model=AgentOut, responses=ERRORS)
def update_agent(agent_id: str, body: UpdateAgent, ctx: WriteCtx) -> dict[str, object]:
    a = service.update(ctx, agent_id, body.model_dump(exclude_unset=True, exclude_none=True))
    return agent_out(a, service.number_counts(ctx, [a.id]).get(a.id, 0))


@router.delete("/{agent_id}", status_code=204, responses=ERRORS)
def delete_agent(agent_id: str, ctx: WriteCtx) -> Response:
    """Delete an agent; refused (409 `invalid_state`, with `numbers`) while numbers are assigned to it."""
    service.delete(ctx, agent_id)
    return Response(status_code=204)
