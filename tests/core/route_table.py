"""Every API route, the least role that may call it, and how to build a valid call.

``test_access.py`` checks that this table covers every route the app serves under
/v1 and /webhooks, so a new endpoint without an entry here fails the suite; the
role matrix, the tenancy checks and the bad-input checks are driven from it.

Roles (auth/permissions.py): viewer reads; member assigns, renames, tags; admin
buys, releases, reactivates, manages agents, pools and automations, ingests calls
and reads the audit log; owner manages keys, reads billing and drives the sandbox.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ROLES = ("viewer", "member", "admin", "owner")
EXEMPT = "exempt"  # carrier webhooks: authenticated by the carrier's signature, not by a role


class World:
    """One persona's objects, made on demand through the API (fresh ones per call where a
    call uses its object up)."""

    def __init__(self, persona: Any) -> None:
        self.p = persona
        self._shared: dict[str, Any] = {}
        self._offered: list[str] = []
        self._used: set[str] = set()

    def _once(self, name: str, make: Callable[[], Any]) -> Any:
        if name not in self._shared:
            self._shared[name] = make()
        return self._shared[name]

    def free_number(self) -> str:
        """An E.164 number for sale that this world has not used yet."""
        while True:
            if not self._offered:
                self._offered = [x["phone_number"] for x in self.p.search(country="US", limit=100)
                                 if x["phone_number"] not in self._used]
            number = self._offered.pop(0)
            if number not in self._used:
                self._used.add(number)
                return number

    def fresh_number(self) -> dict[str, Any]:
        return self.p.buy(self.free_number())

    def fresh_agent(self) -> dict[str, Any]:
        return self.p.agent(f"Agent {len(self._used)}-{dt.datetime.now().timestamp()}")

    def fresh_key(self) -> dict[str, Any]:
        r = self.p.post("/v1/api-keys", {"name": "spare", "role": "viewer"})
        assert r.status_code == 201, r.text
        return r.json()

    def fresh_automation(self) -> dict[str, Any]:
        r = self.p.post("/v1/automations", {"name": "Flow", "kind": "call_flow",
                                             "number_ids": [self.number["id"]]})
        assert r.status_code == 201, r.text
        return r.json()

    def released_number(self) -> dict[str, Any]:
        """A released number whose cooldown is over (reactivation allowed)."""
        n = self.fresh_number()
        r = self.p.post(f"/v1/numbers/{n['id']}/release", {"reason": "no_longer_needed", "acknowledge": True})
        assert r.status_code == 200, r.text
        self.p.advance(25 * 3600)
        return r.json()

    @property
    def number(self) -> dict[str, Any]:
        """An active number, assigned to nothing."""
        def make() -> dict[str, Any]:
            n = self.fresh_number()
            self.p.advance(61)
            return self.p.number(n["id"])
        return self._once("number", make)

    @property
    def agent(self) -> dict[str, Any]:
        return self._once("agent", lambda: self.p.agent("Shared agent"))

    @property
    def pool(self) -> dict[str, Any]:
        def make() -> dict[str, Any]:
            r = self.p.post("/v1/pools", {"name": "Shared pool", "strategy": "round_robin"})
            assert r.status_code == 201, r.text
            return r.json()
        return self._once("pool", make)

    @property
    def dialing_pool(self) -> dict[str, Any]:
        """A pool with an active number in it (it can pick a caller ID)."""
        def make() -> dict[str, Any]:
            r = self.p.post("/v1/pools", {"name": "Dialing pool", "strategy": "round_robin"})
            assert r.status_code == 201, r.text
            n = self.fresh_number()
            self.p.advance(61)
            assert self.p.post(f"/v1/numbers/{n['id']}/assign", {"pool_id": r.json()["id"]}).status_code == 200
            return r.json()
        return self._once("dialing_pool", make)

    def call_record(self) -> dict[str, Any]:
        start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=2)
        return {"number": self.number["phone_number"], "direction": "inbound", "from": "+14155550199",
                "to": self.number["phone_number"], "started_at": start.isoformat(),
                "answered_at": (start + dt.timedelta(seconds=5)).isoformat(),
                "ended_at": (start + dt.timedelta(seconds=65)).isoformat(), "status": "completed"}


Make = Callable[[World], Any]


@dataclass
class Route:
    role: str                                   # least role allowed, or EXEMPT
    ok: int = 200                               # the answer to a valid call by an allowed role
    path: Make | None = None                    # path parameters
    body: Make | None = None                    # JSON body
    query: Make | None = None                   # query parameters
    # Calls that must be refused with 4xx (besides the generic ones every route gets):
    bad_queries: list[dict[str, Any]] = field(default_factory=list)
    bad_bodies: list[Any] = field(default_factory=list)
    bad_paths: list[dict[str, str]] = field(default_factory=list)  # path parameters that are not valid


BAD_NUMBERS = ["12", "+1 555 0000", "CALL-ME-NOW", "+", "", "+99912345678", "1" * 41, 12]
LONG = "x" * 5000


def _number_id(w: World) -> dict[str, str]:
    return {"number_id": w.number["id"]}


def _fresh_number_id(w: World) -> dict[str, str]:
    return {"number_id": w.fresh_number()["id"]}


TABLE: dict[tuple[str, str], Route] = {
    # account and keys
    ("GET", "/v1/account"): Route("viewer"),
    ("PATCH", "/v1/account"): Route(
        "admin", body=lambda w: {"timezone": "Europe/London"},
        bad_bodies=[{"timezone": "Nowhere/Else"}, {"timezone": LONG}, {"naming_template": LONG},
                    {"fallback_destination": "http://example.com"}, {"fallback_destination": "12"},
                    {"billing_status": "good"}]),
    ("POST", "/v1/api-keys"): Route(
        "owner", 201, body=lambda w: {"name": "ci", "role": "viewer"},
        bad_bodies=[{"name": "ci", "role": "root"}, {"name": "", "role": "viewer"}, {"name": LONG, "role": "viewer"},
                    {"role": "viewer"}]),
    ("GET", "/v1/api-keys"): Route("owner"),
    ("DELETE", "/v1/api-keys/{key_id}"): Route("owner", 204, path=lambda w: {"key_id": w.fresh_key()["id"]}),
    # agents
    ("POST", "/v1/agents"): Route(
        "admin", 201, body=lambda w: {"name": "Ava", "kind": "ai_agent", "destination": "sip:ava@example.com"},
        bad_bodies=[{"name": "Ava", "kind": "robot", "destination": "sip:ava@example.com"},
                    {"name": "Ava", "kind": "ai_agent", "destination": "http://example.com/ava"},
                    {"name": "Ava", "kind": "ai_agent", "destination": "ws://example.com/ava"},
                    *({"name": "Ava", "kind": "ai_agent", "destination": d} for d in BAD_NUMBERS),
                    {"name": LONG, "kind": "ai_agent", "destination": "sip:ava@example.com"},
                    {"name": "  ", "kind": "ai_agent", "destination": "sip:ava@example.com"}]),
    ("GET", "/v1/agents"): Route("viewer"),
    ("GET", "/v1/agents/{agent_id}"): Route("viewer", path=lambda w: {"agent_id": w.agent["id"]}),
    ("PATCH", "/v1/agents/{agent_id}"): Route(
        "admin", path=lambda w: {"agent_id": w.agent["id"]}, body=lambda w: {"name": "Renamed"},
        bad_bodies=[{"kind": "robot"}, {"destination": "ws://x.example.com"}, {"destination": "12"},
                    {"name": ""}, {"name": LONG}]),
    ("DELETE", "/v1/agents/{agent_id}"): Route("admin", 204, path=lambda w: {"agent_id": w.fresh_agent()["id"]}),
    # available numbers and the inventory
    ("GET", "/v1/available-numbers"): Route(
        "viewer", query=lambda w: {"country": "US", "limit": 5},
        bad_queries=[{"country": "XX"}, {"type": "fax"}, {"area_code": "4a5"}, {"prefix": "+1 415"},
                     {"contains": "CA_LL"}, {"capabilities": "telepathy"}, {"locality": LONG}]),
    ("POST", "/v1/numbers"): Route(
        "admin", 201, body=lambda w: {"phone_number": w.free_number()},
        bad_bodies=[*({"phone_number": n} for n in BAD_NUMBERS), {"friendly_name": "x"},
                    {"phone_number": "+14155550100", "tags": "vip"}, {"phone_number": "+14155550100", "tags": [LONG]},
                    {"phone_number": "+14155550100", "friendly_name": LONG},
                    {"phone_number": "+14155550100", "department": LONG},
                    {"phone_number": "+14155550100", "status": "active"}]),
    ("GET", "/v1/numbers"): Route(
        "viewer",
        bad_queries=[{"status": "gone"}, {"type": "fax"}, {"assigned": "perhaps"}, {"sort": "price"},
                     {"sort": "-" + LONG}, {"q": LONG}, {"tag": LONG}, {"department": LONG}]),
    ("GET", "/v1/numbers/{number_id}"): Route("viewer", path=_number_id),
    ("PATCH", "/v1/numbers/{number_id}"): Route(
        "member", path=_number_id, body=lambda w: {"friendly_name": "Renamed", "tags": ["a"], "department": "ops"},
        bad_bodies=[{"friendly_name": ""}, {"friendly_name": LONG}, {"tags": [LONG]}, {"tags": "a"},
                    {"tags": [f"t{i}" for i in range(50)]}, {"department": LONG}, {"status": "released"}]),
    ("POST", "/v1/numbers/{number_id}/assign"): Route(
        "member", path=_number_id, body=lambda w: {"agent_id": w.agent["id"]},
        bad_bodies=[{}, {"agent_id": None}, {"agent_id": LONG}, {"agent_id": 7}]),
    ("POST", "/v1/numbers/{number_id}/unassign"): Route("member", path=_number_id),
    ("GET", "/v1/numbers/{number_id}/history"): Route("viewer", path=_number_id),
    ("POST", "/v1/numbers/{number_id}/release"): Route(
        "admin", path=_fresh_number_id, body=lambda w: {"reason": "no_longer_needed", "acknowledge": True},
        bad_bodies=[{"reason": "bored", "acknowledge": True}, {"reason": "other", "acknowledge": True},
                    {"reason": "replaced"}, {"reason": "replaced", "acknowledge": False},
                    {"reason": "replaced", "acknowledge": True, "notes": LONG * 2},
                    {"reason": "replaced", "acknowledge": "yes please"}]),
    ("GET", "/v1/numbers/{number_id}/reactivation"): Route("viewer", path=_number_id),
    ("GET", "/v1/numbers/{number_id}/diagnostics"): Route("viewer", path=_number_id),
    ("POST", "/v1/numbers/{number_id}/reactivate"): Route(
        "admin", path=lambda w: {"number_id": w.released_number()["id"]}, body=lambda w: {"restore_assignment": True},
        bad_bodies=[{"restore_assignment": "maybe"}]),
    ("POST", "/v1/numbers/{number_id}/test-call"): Route(
        "member", path=_number_id, body=lambda w: {"from": "+14155550123"},
        bad_bodies=[{"from": LONG}]),
    ("POST", "/v1/numbers/bulk"): Route(
        "member", body=lambda w: {"action": "tag", "number_ids": [w.number["id"]], "tags": ["bulk"]},
        bad_bodies=[{"action": "paint", "number_ids": ["num_x"]}, {"action": "tag", "number_ids": []},
                    {"action": "tag", "number_ids": ["num_x"] * 501, "tags": ["a"]},
                    {"action": "tag", "number_ids": "num_x", "tags": ["a"]},
                    {"action": "tag", "number_ids": ["num_x"]}, {"action": "assign", "number_ids": ["num_x"]}]),
    ("GET", "/v1/inventory-audit"): Route("viewer", bad_queries=[{"idle_days": 0}, {"idle_days": "week"}]),
    ("GET", "/v1/inventory-audit.csv"): Route("viewer", bad_queries=[{"idle_days": 100000}]),
    ("GET", "/v1/naming/violations"): Route("viewer"),
    ("GET", "/v1/routes/{e164}"): Route(
        "viewer", path=lambda w: {"e164": w.number["phone_number"]},
        bad_paths=[{"e164": n} for n in ("12", "+1 555 0000", "CALL-ME-NOW", "+99912345678")]),
    # automations
    ("POST", "/v1/automations"): Route(
        "admin", 201, body=lambda w: {"name": "IVR", "kind": "call_flow", "number_ids": [w.number["id"]]},
        bad_bodies=[{"name": "IVR", "kind": "macro", "number_ids": []}, {"name": "", "kind": "call_flow"},
                    {"name": LONG, "kind": "automation", "number_ids": []},
                    {"name": "IVR", "kind": "call_flow", "number_ids": "num_x"}]),
    ("GET", "/v1/automations"): Route("viewer"),
    ("DELETE", "/v1/automations/{automation_id}"): Route(
        "admin", 204, path=lambda w: {"automation_id": w.fresh_automation()["id"]}),
    # pools
    ("POST", "/v1/pools"): Route(
        "admin", 201, body=lambda w: {"name": "East", "strategy": "local_presence"},
        bad_bodies=[{"name": "East", "strategy": "random"}, {"name": ""}, {"name": LONG}]),
    ("GET", "/v1/pools"): Route("viewer"),
    ("GET", "/v1/pools/{pool_id}"): Route("viewer", path=lambda w: {"pool_id": w.pool["id"]}),
    ("POST", "/v1/pools/{pool_id}/caller-id"): Route(
        "member", path=lambda w: {"pool_id": w.dialing_pool["id"]}, body=lambda w: {"to": "+14155550100"},
        bad_bodies=[{"to": "12"}, {"to": ""}, {"to": LONG}, {"to": "+14155550100", "from": "x"}]),
    ("PATCH", "/v1/pools/{pool_id}"): Route(
        "admin", path=lambda w: {"pool_id": w.pool["id"]}, body=lambda w: {"strategy": "sticky"},
        bad_bodies=[{"strategy": "random"}, {"name": ""}]),
    # calls and analytics
    ("POST", "/v1/calls"): Route(
        "admin", 201, body=lambda w: {"calls": [w.call_record()]},
        bad_bodies=[{"calls": []}, {"calls": [{"number": "12"}]}, {"calls": "many"},
                    {"calls": [{"number": "+14155550100", "direction": "sideways", "from": "+14155550101",
                                "to": "+14155550100", "started_at": "2026-01-01T00:00:00Z",
                                "status": "completed"}]},
                    {"calls": [{"number": "+14155550100", "direction": "inbound", "from": "+14155550101",
                                "to": "+14155550100", "started_at": "yesterday", "status": "completed"}]}]),
    ("GET", "/v1/calls"): Route(
        "viewer", bad_queries=[{"status": "ringing"}, {"from": "last tuesday"}, {"to": LONG}]),
    ("GET", "/v1/calls.csv"): Route("viewer", bad_queries=[{"status": "ringing"}, {"from": "soon"}]),
    ("GET", "/v1/active-calls"): Route("viewer", bad_queries=[{"number_id": LONG}]),
    ("GET", "/v1/analytics"): Route(
        "viewer", bad_queries=[{"granularity": "minute"}, {"from": "2026-13-45"}, {"to": "never"}]),
    ("GET", "/v1/analytics.csv"): Route("viewer", bad_queries=[{"granularity": "year"}]),
    ("GET", "/v1/audit-events"): Route("admin", bad_queries=[{"target_id": LONG}]),
    # billing
    ("GET", "/v1/billing/charges"): Route("owner", bad_queries=[{"cycle": "2026-13"}, {"cycle": "last month"}]),
    ("GET", "/v1/billing/charges.csv"): Route("owner", bad_queries=[{"cycle": "26-01"}]),
    ("GET", "/v1/billing/summary"): Route("owner"),
    # sandbox
    ("GET", "/v1/sandbox/clock"): Route("owner"),
    ("POST", "/v1/sandbox/clock/advance"): Route(
        "owner", body=lambda w: {"seconds": 60},
        bad_bodies=[{"seconds": 0}, {"seconds": -1}, {"seconds": "an hour"}, {"seconds": 10**15}, {}]),
    ("PUT", "/v1/sandbox/switches/{name}"): Route(
        "owner", path=lambda w: {"name": "stall_provisioning"}, body=lambda w: {"enabled": False},
        bad_bodies=[{"enabled": "sometimes"}, {}]),
    ("PUT", "/v1/sandbox/numbers/{number_id}/configuration"): Route(
        "owner", path=_number_id, body=lambda w: {"broken": False}, bad_bodies=[{"broken": "perhaps"}, {}]),
    # carrier webhooks
    ("POST", "/webhooks/twilio/voice"): Route(EXEMPT),
    ("POST", "/webhooks/twilio/status"): Route(EXEMPT),
    ("POST", "/webhooks/telnyx"): Route(EXEMPT),
}

# Path parameters that name something the account does not own.
NOT_OWNED = {"name"}


def app_routes(app: Any) -> dict[tuple[str, str], Any]:
    """(method, path) → route, for every route under /v1 and /webhooks the app serves."""
    try:
        from fastapi.routing import iter_route_contexts
        contexts = list(iter_route_contexts(app.routes))
    except ImportError:  # FastAPI before route contexts: routes are flat
        contexts = list(app.routes)
    out: dict[tuple[str, str], Any] = {}
    for rc in contexts:
        path = getattr(rc, "path", None) or ""
        if not (path.startswith("/v1/") or path == "/v1" or path.startswith("/webhooks/")):
            continue
        for method in sorted(getattr(rc, "methods", None) or ()):
            if method != "HEAD":
                out[(method, path)] = getattr(rc, "original_route", rc)
    return out
