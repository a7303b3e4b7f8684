"""The sandbox's controls as services (API, dashboard and CLI share these): move its clock,
flip its failure switches, break a number's configuration. Owner role; a 404 off sandbox."""

from __future__ import annotations

import datetime as dt

from numberdesk.audit import service as audit
from numberdesk.auth.context import Ctx
from numberdesk.carrier_sync.configuration import apply_report
from numberdesk.errors import InvalidState, NotFound, ValidationFailed
from numberdesk.numbers import repository
from numberdesk.numbers.lifecycle import Status
from numberdesk.numbers.models import PhoneNumber
from numberdesk.providers.registry import get_carrier
from numberdesk.providers.sandbox.carrier import SWITCHES, SandboxCarrier
from numberdesk.runtime import AppState
from numberdesk.worker.runner import run_due


def sandbox_only(ctx: Ctx) -> SandboxCarrier:
    """The sandbox carrier, for an owner; a 404 when this deployment uses a real carrier."""
    if not ctx.settings.is_sandbox:
        raise NotFound("There is no sandbox: this deployment uses a real carrier.")
    ctx.require("sandbox.control")
    carrier = get_carrier(ctx.settings)
    assert isinstance(carrier, SandboxCarrier)
    return carrier


def advance(ctx: Ctx, st: AppState, seconds: int) -> tuple[dt.datetime, dict[str, int]]:
    """Move the clock, then run every due sweep (outside the caller's transaction)."""
    if not ctx.settings.is_sandbox:
        raise NotFound("There is no sandbox clock.")
    ctx.require("sandbox.control")
    if seconds < 1:
        raise ValidationFailed.field("seconds", "must be at least 1")
    ctx.clock.advance(seconds)
    changes = run_due(st.db, st.clock, st.settings)
    return ctx.clock.now(), changes


def set_switch(ctx: Ctx, name: str, enabled: bool) -> None:
    carrier = sandbox_only(ctx)
    if name not in SWITCHES:
        raise NotFound(f"No sandbox switch {name!r}; there are: {', '.join(SWITCHES)}.")
    carrier.set_switch(ctx.session, name, enabled)
    audit.record(ctx, "sandbox.switch", "sandbox", None, None, {"name": name, "enabled": enabled})


def set_configuration(ctx: Ctx, number_id: str, broken: bool) -> PhoneNumber:
    """Make the sandbox carrier report the number's configuration broken (or fixed).

    The report takes effect at once, as a real carrier's notice would: an active
    number turns inactive (configuration); clearing it restores the number unless
    another cause still holds it.
    """
    carrier = sandbox_only(ctx)
    n = repository.get_for_update(ctx, number_id)
    if n.provider_ref is None or n.returned_at is not None:
        raise InvalidState("The carrier no longer has this number, so it has no configuration to break.",
                           status=n.status)
    carrier.set_configuration_broken(ctx.session, n.provider_ref, broken)
    audit.record(ctx, "sandbox.configuration", "number", n.id, None, {"broken": broken})
    if n.status in (Status.active, Status.inactive):
        apply_report(ctx, n.id, not broken)
    ctx.session.flush()
    ctx.session.refresh(n)
    return n
