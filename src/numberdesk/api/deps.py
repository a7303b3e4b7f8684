"""FastAPI dependencies: who is calling, and the unit of work they act in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from numberdesk.accounts.service import authenticate_key
from numberdesk.auth.context import Ctx
from numberdesk.errors import Unauthenticated
from numberdesk.runtime import AppState


@dataclass(frozen=True)
class Principal:
    account_id: str
    actor: str
    role: str


def app_state(request: Request) -> AppState:
    """The running deployment (settings, database, clock) of the app serving ``request``."""
    return request.app.state.nd  # type: ignore[no-any-return]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def principal(request: Request) -> Principal:
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    token = bearer_token(request)
    if token is None:
        raise Unauthenticated("Send an API key: Authorization: Bearer <key>.")
    st = app_state(request)
    with st.db.session(write=False) as s:
        key = authenticate_key(s, token)
        if key is None:
            raise Unauthenticated("The API key is unknown or revoked.")
        p = Principal(account_id=key.account_id, actor=key.id, role=key.role)
    request.state.principal = p
    return p


def _ctx(request: Request, p: Principal, write: bool) -> Iterator[Ctx]:
    st = app_state(request)
    with st.db.session(write=write) as s:
        yield Ctx(session=s, account_id=p.account_id, actor=p.actor, role=p.role, clock=st.clock,
                  settings=st.settings, request_id=getattr(request.state, "request_id", None))


async def write_slot(request: Request) -> AsyncIterator[None]:
    """Waits, on the event loop, for a write slot; held until the transaction ends."""
    async with app_state(request).db.write_slots():
        yield


def write_ctx(
    request: Request, p: Annotated[Principal, Depends(principal)],
    _slot: Annotated[None, Depends(write_slot, scope="function")],
) -> Iterator[Ctx]:
    """A write transaction, committed before the response is sent."""
    yield from _ctx(request, p, True)


def read_ctx(request: Request, p: Annotated[Principal, Depends(principal)]) -> Iterator[Ctx]:
    yield from _ctx(request, p, False)


WriteCtx = Annotated[Ctx, Depends(write_ctx, scope="function")]
ReadCtx = Annotated[Ctx, Depends(read_ctx, scope="function")]
