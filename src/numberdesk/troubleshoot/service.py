"""Troubleshooting a number: the guide's checklists, run against the number's real state.

Each check says whether it passes, what was found, and (when it fails) what to
do, in words. A number in the inventory walks "Number not working after purchase"
(provisioning, inactive, assignment, destination, a test call) and "Cannot release
a phone number" (calls in progress, dependencies, permission, maintenance); a
released number walks "Missed reactivation window" (cooldown, reclaim window,
eligibility, permission, maintenance) and the test call.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from numberdesk.agents.destinations import validate_destination
from numberdesk.auth.context import Ctx
from numberdesk.auth.permissions import PERMISSIONS, allowed
from numberdesk.errors import NumberdeskError
from numberdesk.kit import phone
from numberdesk.kit.times import span, utc_text
from numberdesk.maintenance.service import current_window
from numberdesk.numbers import lifecycle, release
from numberdesk.numbers import service as numbers
from numberdesk.numbers.holds import causes_of
from numberdesk.numbers.lifecycle import Status
from numberdesk.numbers.models import PhoneNumber
from numberdesk.routing import decide as routing
from numberdesk.routing.resolve import Target


@dataclass
class Diagnostic:
    code: str
    ok: bool
    detail: str
    remedy: str | None = None   # what to do; None when the check passes


def when(t: dt.datetime) -> str:
    return utc_text(t)


def duration(delta: dt.timedelta) -> str:
    """A span in words a person reads at a glance: "2 days 3 h", "5 h 12 min", "40 min"."""
    return span(delta.total_seconds(), "words")


CAUSE_DETAIL = routing.CAUSE_DETAIL


def _configuration_remedy(ctx: Ctx, n: PhoneNumber) -> str:
    webhook = f"{ctx.settings.public_url}/webhooks/{n.provider}/voice"
    if n.provider == "telnyx":
        webhook = f"{ctx.settings.public_url}/webhooks/telnyx"
    return ("Check the number's setup at the carrier: its voice webhook must be "
            f"{webhook} (HTTP POST), it must sit on a voice-enabled connection or trunk, and it must "
            "not be ported out or suspended there. It returns to active by itself once the carrier "
            "reports the configuration fixed.")


CAUSE_REMEDY = {
    "billing": ("Pay the outstanding balance (the account owner sees the charges under Billing). "
                "The number returns to active by itself once the account is in good standing."),
}


def _provisioning(ctx: Ctx, n: PhoneNumber, now: dt.datetime) -> Diagnostic:
    hours = ctx.settings.provisioning_overdue_hours
    if n.status == Status.pending:
        age = now - n.purchased_at
        deadline = lifecycle.provisioning_overdue_at(n.purchased_at, hours)
        if lifecycle.provisioning_overdue(n.status, n.purchased_at, now, hours):
            return Diagnostic(
                "provisioning", False,
                f"Still pending {duration(age)} after purchase ({when(n.purchased_at)}): longer than the "
                f"{hours} hours provisioning may take.",
                f"Contact support: provisioning has exceeded {hours} hours. Quote {n.phone_number}, "
                f"its id {n.id} and its purchase time {when(n.purchased_at)}.")
        return Diagnostic(
            "provisioning", False,
            f"Still pending: bought {duration(age)} ago ({when(n.purchased_at)}); the carrier is "
            "provisioning it, which may take 24\u201348 hours.",
            "Wait: the number turns active by itself once the carrier has provisioned it. "
            f"Contact support if it is still pending at {when(deadline)}.")
    at = f" on {when(n.activated_at)}" if n.activated_at else ""
    return Diagnostic("provisioning", True, f"Provisioned{at}; the number is {n.status}.")


def _inactive(ctx: Ctx, n: PhoneNumber) -> Diagnostic:
    if n.status != Status.inactive:
        return Diagnostic("inactive", True, "The number is not held inactive.")
    causes = causes_of(ctx.session, ctx.account_id, [n.id])[n.id] or [n.status_reason or "configuration"]
    detail = "Inactive: " + " and ".join(CAUSE_DETAIL.get(c, c) for c in causes) + \
        "; it routes no calls until " + ("both are" if len(causes) > 1 else "this is") + " resolved."
    remedies = [CAUSE_REMEDY["billing"] if c == "billing" else _configuration_remedy(ctx, n) for c in causes]
    if len(causes) > 1:
        remedies.insert(0, "Both causes must be resolved.")
    return Diagnostic("inactive", False, detail, " ".join(remedies))


ASSIGN_REMEDY = ("Assign the number to an agent (Assign on the Phone Numbers page, or "
                 "POST /v1/numbers/{id}/assign), or set a fallback route in Settings.")


def _assignment(n: PhoneNumber, r: Target) -> Diagnostic:
    if r.kind == "agent":
        return Diagnostic("assignment", True, f"Assigned to agent {r.agent_name}.")
    if r.kind == "pool":
        return Diagnostic("assignment", True, f"In pool {r.pool_name}, whose calls go to its inbound agent.")
    if r.in_pool_without_agent and r.kind == "fallback":
        return Diagnostic("assignment", True, f"In pool {r.pool_name}, which has no inbound agent; calls go "
                          "to the account's fallback route.")
    if r.in_pool_without_agent:
        return Diagnostic("assignment", False, f"In pool {r.pool_name}, which has no inbound agent.",
                          "Give the pool an inbound agent, or assign the number to an agent directly.")
    if r.kind == "fallback":
        return Diagnostic("assignment", True,
                          "Not assigned to an agent; calls go to the account's fallback route.")
    return Diagnostic("assignment", False,
                      "Not assigned to an agent or a pool, and the account has no fallback route.",
                      ASSIGN_REMEDY.format(id=n.id))


def _destination(n: PhoneNumber, r: Target) -> Diagnostic:
    if r.destination is None:
        return Diagnostic("destination", False, "There is no destination to send calls to.",
                          ASSIGN_REMEDY.format(id=n.id))
    subject = {"agent": f"agent {r.agent_name}", "pool": f"the inbound agent of pool {r.pool_name}",
               "fallback": "the fallback route"}[r.kind]
    try:
        validate_destination(r.destination)
    except NumberdeskError:
        fix = ("Edit the agent's destination" if r.kind in ("agent", "pool")
               else "Edit the fallback route in Settings")
        return Diagnostic("destination", False, f"The destination of {subject}, {r.destination!r}, is not "
                          "a SIP URI, an E.164 number or a wss:// URL, so calls cannot reach it.",
                          f"{fix}: use a SIP URI (sip:agent@example.com), an E.164 number "
                          "(+14155552671) or a wss:// URL.")
    return Diagnostic("destination", True, f"The destination of {subject}, {r.destination}, is valid.")


def _test_call(ctx: Ctx, n: PhoneNumber, now: dt.datetime, failing: list[Diagnostic]) -> Diagnostic:
    if n.returned_at is not None:
        return Diagnostic("test_call", False,
                          "A caller hears that the number is not in service: it went back to the carrier.",
                          "Buy a similar number (see the reclaim window check).")
    d = routing.decide(ctx.session, n.phone_number, now)
    if d.routed:
        return Diagnostic("test_call", True, f"A test call connects: {d.reason}")
    if n.status == Status.released:
        return Diagnostic("test_call", False, f"A caller hears that the number is not in service. {d.reason}",
                          "Reactivate the number (see the checks above); calls connect again once it is active.")
    fixes = [f.code for f in failing]
    remedy = ("Resolve the failing checks above (" + ", ".join(fixes) + "); the test call then connects."
              if fixes else "Resolve the cause given; the test call then connects.")
    return Diagnostic("test_call", False, f"A caller hears that the number is not in service. {d.reason}",
                      remedy)


def _release_checks(ctx: Ctx, n: PhoneNumber) -> list[Diagnostic]:
    blockers = {b["code"]: b for b in release.release_blockers(ctx, n)}
    out = []
    calls = blockers.get(lifecycle.ACTIVE_CALLS)
    out.append(Diagnostic("active_calls", False, calls["detail"],
                          "Wait until the calls in progress end, then release it again.")
               if calls else Diagnostic("active_calls", True, "No calls are in progress on the number."))
    deps = blockers.get(lifecycle.HAS_DEPENDENCIES)
    if deps:
        names = ", ".join(f"'{d['name']}'" for d in deps.get("dependencies", []))
        out.append(Diagnostic("has_dependencies", False, deps["detail"],
                              f"Remove the number from {names or 'them'} under Automations, or release it "
                              "with 'detach call flows and automations' ticked."))
    else:
        out.append(Diagnostic("has_dependencies", True, "No call flows or automations use the number."))
    out.append(_permission(ctx, "numbers.release", "release numbers"))
    return out


def _permission(ctx: Ctx, permission: str, what: str) -> Diagnostic:
    code = permission.replace("numbers.", "") + "_permission"
    if allowed(ctx.role, permission):
        return Diagnostic(code, True, f"Your role ({ctx.role}) may {what}.")
    roles = " or ".join(sorted(PERMISSIONS[permission]))
    return Diagnostic(code, False, f"Your role ({ctx.role}) may not {what}.",
                      f"Ask someone with the {roles} role to do it, or to give you that role.")


def _maintenance(ctx: Ctx, now: dt.datetime, what: str) -> Diagnostic:
    window = current_window(ctx.session, now)
    if window is None:
        return Diagnostic("maintenance", True, "No maintenance window is in effect.")
    return Diagnostic("maintenance", False,
                      f"Maintenance is in progress until {when(window.ends_at)}: {what} is paused.",
                      f"Try again after {when(window.ends_at)} ({duration(window.ends_at - now)} from now).")


def _released_checks(ctx: Ctx, n: PhoneNumber, now: dt.datetime) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    released = f" on {when(n.released_at)}" if n.released_at else ""
    reason = f" ({n.release_reason})" if n.release_reason else ""
    if n.returned_at is not None:
        out.append(Diagnostic("released", False,
                              f"Released{released}{reason}; its reclaim window ended and it went back to the "
                              f"carrier on {when(n.returned_at)}. Its record stays here, read-only.",
                              "It cannot be reactivated any more; see the reclaim window check."))
    else:
        out.append(Diagnostic("released", False, f"Released{released}{reason}: it routes no calls.",
                              "Reactivate it before its reclaim window closes to bring it back."))
    e = release.reactivation(ctx, n.id)
    by_code: dict[str, list[lifecycle.Check]] = {}
    for c in e.checks:
        by_code.setdefault(c.code, []).append(c)
    cooldown = next(iter(by_code.get("in_cooldown", [])), None)
    if cooldown is not None and n.returned_at is None:
        wait = None
        if not cooldown.ok and e.cooldown_ends_at is not None:
            wait = f"Wait until {when(e.cooldown_ends_at)}, then reactivate it."
        out.append(Diagnostic("cooldown", cooldown.ok, cooldown.detail, wait))
    window = next(iter(by_code.get("reclaim_window_expired", [])), None)
    if window is not None:
        if window.ok and e.reclaim_deadline is not None:
            left = duration(e.reclaim_deadline - now)
            out.append(Diagnostic("reclaim_window", True,
                                  f"The reclaim window is open until {when(e.reclaim_deadline)} ({left} left)."))
        else:
            similar = [x.phone_number for x in numbers.similar_available(ctx, n.phone_number, limit=3)]
            alternatives = (f" Similar numbers for sale now: {', '.join(phone.national_format(s) for s in similar)}."
                            if similar else " Search available numbers for a similar one.")
            deadline = e.reclaim_deadline or n.reclaim_deadline
            days = ctx.settings.reclaim_days
            if deadline is not None and n.released_at is not None:
                days = round((deadline - n.released_at).total_seconds() / 86400)
            ended = f" at {when(deadline)}" if deadline is not None else ""
            out.append(Diagnostic(
                "reclaim_window", False,
                f"The {days}-day reclaim window ended{ended}; the number cannot be reactivated.",
                "Contact support to ask whether a special exception is possible." + alternatives
                + f" Next time, reactivate within {days} days of a release "
                  "(the Phone Numbers page counts the days down)."))
    if n.returned_at is not None:
        return out
    not_ok = [c for c in by_code.get("not_eligible", []) if not c.ok]
    if not_ok:
        remedy = {
            "spam_reported": ("A number released as spam_reported never comes back; buy another number "
                              "instead."),
            "carrier_released": "The carrier no longer holds it; buy a similar number instead.",
            "past_due": CAUSE_REMEDY["billing"].split(" The number")[0] + ", then reactivate it.",
        }
        out.append(Diagnostic("eligibility", False, " ".join(c.detail for c in not_ok),
                              " ".join(remedy.get(c.reason or "", "") for c in not_ok).strip() or None))
    else:
        out.append(Diagnostic("eligibility", True,
                              "Eligible: it was not released as spam, the carrier still holds it, and the "
                              "account is in good standing."))
    out.append(_permission(ctx, "numbers.reactivate", "reactivate numbers"))
    out.append(_maintenance(ctx, now, "reactivating numbers"))
    return out


def diagnose(ctx: Ctx, number_id: str) -> list[Diagnostic]:
    """Every troubleshooting check of the guide for this number, in the guide's order."""
    ctx.require("read")
    n = numbers.get(ctx, number_id)
    now = ctx.now()
    if n.status == Status.released:
        checks = _released_checks(ctx, n, now)
        checks.append(_test_call(ctx, n, now, []))
        return checks
    row = routing.lookup(ctx.session, n.phone_number)
    route = routing.target_of_row(row) if row is not None else Target("none")
    checks = [_provisioning(ctx, n, now), _inactive(ctx, n), _assignment(n, route), _destination(n, route)]
    checks.append(_test_call(ctx, n, now, [c for c in checks if not c.ok]))
    checks += _release_checks(ctx, n)
    checks.append(_maintenance(ctx, now, "releasing numbers"))
    return checks
