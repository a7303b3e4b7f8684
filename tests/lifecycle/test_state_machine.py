"""A stateful property test of the number lifecycle through the HTTP API.

Two fresh accounts per example (A with an agent, B) buy, assign, unassign,
release, reactivate and try to buy each other's numbers while the sandbox clock
jumps ahead. After every step the product's invariants must hold:

* one holder per number (never two live records of one E.164);
* released numbers are never assigned;
* every status (and the returned flag) matches a model of the rules;
* each number's history has exactly the expected rows, chained and in time order;
* a number held or on hold (reclaim window, carrier aging) is never offered to anyone.

The sandbox clock is real time plus an offset, so a step's server time is known
only to within the request's duration; where a boundary falls inside that span
either outcome is accepted (and the model follows the one that happened).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import os
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from numberdesk.accounts.models import Account
from numberdesk.accounts.service import issue_key
from numberdesk.kit.ids import new_id
from numberdesk.numbers.models import PhoneNumber, StatusChange
from tests.lifecycle.helpers import digits, ts

COOLDOWN = dt.timedelta(hours=1)
WINDOW = dt.timedelta(days=1)
AGING = dt.timedelta(days=1)
PROVISIONING = dt.timedelta(seconds=60)
SLACK = dt.timedelta(seconds=2)   # longest a request may take, for the server-time span
MAX_NUMBERS = 3
# 200 examples on each backend (about a minute and a half on SQLite, two and a half
# on PostgreSQL, on two cores).
EXAMPLES = int(os.environ.get("NUMBERDESK_STATEFUL_EXAMPLES", "200"))  # on each backend
SEEN: Counter[str] = Counter()   # outcomes reached, printed with -s


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"cooldown_hours": 1, "reclaim_days": 1, "sandbox_aging_days": 1,
            "sandbox_provisioning_seconds": 60}


@dataclasses.dataclass(frozen=True)
class Num:
    id: str
    e164: str
    owner: str                       # "a" or "b"
    status: str = "pending"
    ready_at: dt.datetime | None = None
    assigned: bool = False
    prev_assigned: bool = False
    released_from: str | None = None
    spam: bool = False
    cooldown_end: dt.datetime | None = None
    deadline: dt.datetime | None = None
    returned: bool = False
    history: int = 1

    def due(self, t: dt.datetime) -> Num:
        """This number after every sweep due at ``t``."""
        if self.status == "pending" and self.ready_at is not None and self.ready_at <= t:
            return dataclasses.replace(self, status="active", ready_at=None, history=self.history + 1)
        if self.status == "released" and not self.returned and self.deadline is not None and self.deadline <= t:
            return dataclasses.replace(self, returned=True, history=self.history + 1)
        return self

    def reactivation_code(self, t: dt.datetime) -> str:
        """What a reactivation at ``t`` answers (the checks in their order)."""
        if self.status != "released":
            return "invalid_state"
        assert self.cooldown_end is not None and self.deadline is not None
        if t < self.cooldown_end:
            return "in_cooldown"
        if self.returned or t >= self.deadline:
            return "reclaim_window_expired"
        if self.spam:
            return "not_eligible"
        return "ok"

    def hidden_until(self) -> dt.datetime | None:
        """Until when nobody may be offered this E.164 (None: for as long as it is held)."""
        if not self.returned:
            return None
        assert self.deadline is not None
        return self.deadline + AGING


def cheap_account(app: Any, name: str) -> tuple[str, dict[str, str]]:
    """An account with an owner key, without the password hashing of a real sign-up."""
    nd = app.state.nd
    with nd.db.session() as s:
        now = nd.clock.now()
        account = Account(id=new_id("acct"), name=name, timezone="UTC", billing_status="good", created_at=now)
        s.add(account)
        s.flush()
        secret, _ = issue_key(s, account.id, "state machine", "owner", now)
    return account.id, {"Authorization": f"Bearer {secret}"}


def make_machine(app: Any, client: Any) -> type[RuleBasedStateMachine]:
    db, clock = app.state.nd.db, app.state.nd.clock
    waits = st.sampled_from([0, 3601, 3601, 86401, 2 * 86400 + 7])

    class NumberLifecycle(RuleBasedStateMachine):
        @initialize(pattern=st.from_regex(r"\A[0-9]{3}\Z"), assigned=st.booleans())
        def accounts(self, pattern: str, assigned: bool) -> None:
            self.accts: dict[str, str] = {}
            self.h: dict[str, dict[str, str]] = {}
            for key in ("a", "b"):
                self.accts[key], self.h[key] = cheap_account(app, f"machine {key}")
            r = client.post("/v1/agents", json={"name": "Ava", "kind": "ai_agent",
                                                "destination": "sip:ava@agents.example.com"}, headers=self.h["a"])
            assert r.status_code == 201, r.text
            self.agent_id = r.json()["id"]
            self.nums: list[Num] = []
            self.buy("a", pattern)
            if assigned:
                self.assignment(0, True)

        # -- helpers ---------------------------------------------------------
        def now(self) -> dt.datetime:
            # The app runs in this process: its sandbox clock is the one the API reads.
            return clock.now()

        def pick(self, i: int, want: str | None = None) -> int:
            """An index into the numbers, among the released (or held) ones when there are some."""
            ks = list(range(len(self.nums)))
            if want is not None:
                ks = [k for k in ks if (self.nums[k].status == "released") == (want == "released")] or ks
            return ks[i % len(ks)]

        def api_numbers(self) -> dict[str, dict[str, Any]]:
            out: dict[str, dict[str, Any]] = {}
            for key in ("a", "b"):
                r = client.get("/v1/numbers", params={"limit": 500}, headers=self.h[key])
                assert r.status_code == 200, r.text
                for x in r.json()["data"]:
                    out[x["id"]] = {**x, "owner": key}
            return out

        def last_history_at(self, number_id: str) -> dt.datetime:
            with db.session(write=False) as s:
                return s.scalar(select(StatusChange.at).where(StatusChange.number_id == number_id)
                                .order_by(StatusChange.id.desc()).limit(1))

        def add_bought(self, owner: str, body: dict[str, Any]) -> None:
            self.nums.append(Num(id=body["id"], e164=body["phone_number"], owner=owner,
                                 ready_at=ts(body["purchased_at"]) + PROVISIONING))

        # -- rules -----------------------------------------------------------
        @precondition(lambda self: len(self.nums) < MAX_NUMBERS)
        @rule(owner=st.sampled_from(["a", "b"]), pattern=st.from_regex(r"\A[0-9]{3}\Z"))
        def buy(self, owner: str, pattern: str) -> None:
            # Spread the purchases over the inventory: every example's numbers stay held.
            r = client.get("/v1/available-numbers", params={"limit": 1, "contains": pattern}, headers=self.h[owner])
            assert r.status_code == 200, r.text
            if not r.json()["data"]:
                r = client.get("/v1/available-numbers", params={"limit": 1}, headers=self.h[owner])
            e164 = r.json()["data"][0]["phone_number"]
            r = client.post("/v1/numbers", json={"phone_number": e164}, headers=self.h[owner])
            assert r.status_code == 201, r.text
            assert r.json()["status"] == "pending"
            self.add_bought(owner, r.json())

        @rule(i=st.integers(0, 7), assign=st.booleans())
        def assignment(self, i: int, assign: bool) -> None:
            k = self.pick(i)
            n = self.nums[k]
            if assign and n.owner == "a":
                r = client.post(f"/v1/numbers/{n.id}/assign", json={"agent_id": self.agent_id}, headers=self.h["a"])
                if n.status != "released" and not n.returned:
                    assert r.status_code == 200, r.text
                    self.nums[k] = dataclasses.replace(n, assigned=True)
                else:   # released numbers are never assigned
                    assert r.status_code == 409 and r.json()["code"] == "invalid_state", r.text
                return
            r = client.post(f"/v1/numbers/{n.id}/unassign", json={}, headers=self.h[n.owner])
            assert r.status_code == 200, r.text   # always possible, also once returned
            self.nums[k] = dataclasses.replace(
                n, assigned=False, prev_assigned=False if n.status == "released" else n.prev_assigned)

        @rule(i=st.integers(0, 7), reason=st.sampled_from(["no_longer_needed", "replaced", "spam_reported"]))
        def release(self, i: int, reason: str) -> None:
            k = self.pick(i, "held")
            n = self.nums[k]
            r = client.post(f"/v1/numbers/{n.id}/release", json={"reason": reason, "acknowledge": True},
                            headers=self.h[n.owner])
            if n.status == "released":
                assert r.status_code == 409 and r.json()["code"] == "invalid_state", r.text
                return
            assert r.status_code == 200, r.text
            rec = r.json()["release"]
            released_at = ts(rec["released_at"])
            assert ts(rec["cooldown_ends_at"]) == released_at + COOLDOWN
            assert ts(rec["reclaim_deadline"]) == released_at + WINDOW
            self.nums[k] = dataclasses.replace(
                n, status="released", released_from=n.status, ready_at=None, assigned=False,
                prev_assigned=n.assigned, spam=reason == "spam_reported",
                cooldown_end=ts(rec["cooldown_ends_at"]), deadline=ts(rec["reclaim_deadline"]),
                history=n.history + 1)

        @rule(seconds=st.sampled_from([5, 61, 1800, 3601, 86401, 2 * 86400 + 7]))
        def advance(self, seconds: int) -> None:
            r = client.post("/v1/sandbox/clock/advance", json={"seconds": seconds}, headers=self.h["a"])
            assert r.status_code == 200, r.text
            high = ts(r.json()["now"])
            low = high - SLACK
            api = None
            for k, n in enumerate(self.nums):
                lo, hi = n.due(low).due(low), n.due(high).due(high)
                if hi.returned and not n.returned:
                    SEEN["returned to carrier"] += 1
                if lo == hi:
                    self.nums[k] = lo
                    continue
                api = api or self.api_numbers()
                seen = (api[n.id]["status"], api[n.id]["returned_to_carrier"])
                options = {(m.status, m.returned): m for m in (lo, hi)}
                assert seen in options, (n, seen)
                self.nums[k] = options[seen]

        @rule(i=st.integers(0, 7), restore=st.booleans(), wait=waits,
              reason=st.sampled_from(["no_longer_needed", "replaced", "no_longer_needed", "spam_reported"]))
        def reactivate(self, i: int, restore: bool, wait: int, reason: str) -> None:
            in_window = [k for k, n in enumerate(self.nums) if n.status == "released" and not n.returned]
            if not in_window and any(n.status != "released" for n in self.nums):
                self.release(i, reason)   # something to reactivate
                in_window = [k for k, n in enumerate(self.nums) if n.status == "released" and not n.returned]
            if wait:
                self.advance(wait)
            k = in_window[i % len(in_window)] if in_window else self.pick(i, "released")
            n = self.nums[k]
            before = self.now()
            r = client.post(f"/v1/numbers/{n.id}/reactivate", json={"restore_assignment": restore},
                            headers=self.h[n.owner])
            after = self.now()
            possible = {n.reactivation_code(before), n.reactivation_code(after)}
            code = "ok" if r.status_code == 200 else r.json().get("code")
            event(f"reactivate: {code}")
            SEEN[f"reactivate: {code}"] += 1
            assert code in possible, (n, possible, r.text)
            if code != "ok":
                assert r.status_code == 409, r.text
                if code == "in_cooldown":
                    assert ts(r.json()["cooldown_ends_at"]) == n.cooldown_end
                return
            body = r.json()
            pending = n.released_from == "pending"
            assert body["status"] == ("pending" if pending else "active"), (n, body)
            assigned = restore and n.prev_assigned
            assert (body["assignment"] is not None) == assigned, (n, body)
            at = self.last_history_at(n.id)
            self.nums[k] = dataclasses.replace(
                n, status=body["status"], ready_at=at + PROVISIONING if pending else None, assigned=assigned,
                prev_assigned=False, released_from=None, spam=False, cooldown_end=None, deadline=None,
                history=n.history + 1)

        @precondition(lambda self: len(self.nums) < MAX_NUMBERS + 2)
        @rule(i=st.integers(0, 7), wait=waits)
        def other_account_buys(self, i: int, wait: int) -> None:
            if wait:
                self.advance(wait)
            n = self.nums[self.pick(i, "released")]
            other = "b" if n.owner == "a" else "a"
            records = [m for m in self.nums if m.e164 == n.e164]
            before = self.now()
            r = client.post("/v1/numbers", json={"phone_number": n.e164}, headers=self.h[other])
            after = self.now()

            def free(t: dt.datetime) -> bool:
                return all(m.hidden_until() is not None and m.hidden_until() <= t for m in records)  # type: ignore[operator]

            possible = {free(before), free(after)}
            event(f"other account buys: {r.status_code}")
            SEEN[f"other account buys: {r.status_code}"] += 1
            if r.status_code == 201:
                assert True in possible, (records, r.text)
                self.add_bought(other, r.json())
            else:
                assert False in possible, (records, r.text)
                assert r.status_code == 409 and r.json()["code"] == "number_unavailable", r.text

        # -- invariants --------------------------------------------------------
        @invariant()
        def rules_hold(self) -> None:
            if not hasattr(self, "nums"):
                return
            e164s = {n.e164 for n in self.nums}
            with db.session(write=False) as s:
                rows = {p.id: p for p in s.scalars(select(PhoneNumber).where(
                    PhoneNumber.account_id.in_(list(self.accts.values()))))}
                live = Counter(s.scalars(select(PhoneNumber.phone_number).where(
                    PhoneNumber.phone_number.in_(e164s), PhoneNumber.returned_at.is_(None))))
                history = s.execute(
                    select(StatusChange.number_id, StatusChange.from_status, StatusChange.to_status,
                           StatusChange.at)
                    .where(StatusChange.number_id.in_([n.id for n in self.nums]))
                    .order_by(StatusChange.id)).all()
            assert set(rows) == {n.id for n in self.nums}
            # One holder per number, across every account.
            assert all(c == 1 for c in live.values()), live
            for n in self.nums:
                p = rows[n.id]
                assert p.account_id == self.accts[n.owner]
                assert (p.status, p.returned_at is not None) == (n.status, n.returned), (n, p.status, p.returned_at)
                if p.status == "released":
                    assert p.agent_id is None and p.pool_id is None, n   # released: never assigned
                assert (p.agent_id is not None) == n.assigned, n
                mine = [h for h in history if h.number_id == n.id]
                assert len(mine) == n.history, (n, mine)
                assert mine[0].from_status is None
                for prev, cur in itertools.pairwise(mine):
                    assert cur.from_status == prev.to_status, mine      # chained
                    assert cur.at >= prev.at, mine                      # in time order
                assert mine[-1].to_status == n.status
            # Held or on hold: offered to nobody (unless the hold is about to end right now).
            # Asked as the account that did not hold it last: it must never learn of the hold.
            now = self.now()
            for e164 in e164s:
                records = [m for m in self.nums if m.e164 == e164]
                ends = [m.hidden_until() for m in records]
                if any(t is None or t > now + SLACK for t in ends):
                    key = "b" if records[-1].owner == "a" else "a"
                    r = client.get("/v1/available-numbers", params={"contains": digits(e164), "limit": 50},
                                   headers=self.h[key])
                    assert r.status_code == 200, r.text
                    assert e164 not in {y["phone_number"] for y in r.json()["data"]}, (e164, key)

        def teardown(self) -> None:
            """The API shows each account exactly what the model holds."""
            if not hasattr(self, "nums"):
                return
            api = self.api_numbers()
            assert set(api) == {n.id for n in self.nums}
            for n in self.nums:
                x = api[n.id]
                assert x["owner"] == n.owner
                assert (x["status"], x["returned_to_carrier"]) == (n.status, n.returned), (n, x)
                assert (x["assignment"] is not None) == n.assigned, (n, x)
                assert (x["release"] is not None) == (n.status == "released"), (n, x)
            for key in ("a", "b"):
                for n in self.nums:
                    r = client.get(f"/v1/numbers/{n.id}/reactivation", headers=self.h[key])
                    assert r.status_code == (200 if n.owner == key else 404), r.text

    return NumberLifecycle


def test_lifecycle_state_machine(app, client) -> None:  # type: ignore[no-untyped-def]
    SEEN.clear()
    machine = make_machine(app, client)
    run_state_machine_as_test(machine, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=10, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
    print("state machine outcomes:", dict(sorted(SEEN.items())))
