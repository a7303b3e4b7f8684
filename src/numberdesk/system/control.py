"""Sandbox controls as services (API, dashboard and CLI share these)."""

from __future__ import annotations

import datetime as dt

from numberdesk.audit import service as audit
from numberdesk.context import Ctx
from numberdesk.errors import NotFound, ValidationFailed
from numberdesk.providers.registry import get_carrier
from numberdesk.providers.sandbox.carrier import SWITCHES, SandboxCarrier
from numberdesk.state import AppState


def advance(ctx: Ctx, st: AppState, seconds: int) -> tuple[dt.datetime, dict[str, int]]:
    """Move the clock, then run every due sweep (outside the caller's transaction)."""
    from numberdesk.worker import run_due

    if not ctx.settings.is_sandbox:
        raise NotFound("There is no sandbox clock.")
    ctx.require("sandbox.control")
    if seconds < 1:
        raise ValidationFailed.field("seconds", "must be at least 1")
    ctx.clock.advance(seconds)
    changes = run_due(st.db, st.clock, st.settings)
    return ctx.clock.now(), changes


def set_switch(ctx: Ctx, name: str, enabled: bool) -> None:
    ctx.require("sandbox.control")
    if name not in SWITCHES:
        raise NotFound(f"No sandbox switch {name!r}; there are: {', '.join(SWITCHES)}.")
    carrier = get_carrier(ctx.settings)
    assert isinstance(carrier, SandboxCarrier)
    carrier.set_switch(ctx.session, name, enabled)
    audit.record(ctx, "sandbox.switch", "sandbox", None, None, {"name": name, "enabled": enabled})
