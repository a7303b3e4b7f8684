"""The demo account's contents: agents, a pool, a dozen numbers and 30 days of calls.

Everything goes through the same services as the API (buying from the sandbox
carrier, assigning, the batch call ingest), so the dashboard shows what a real
account would: busy weekday afternoons, quiet weekends, about one call in ten missed.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass

from numberdesk.accounts.models import Account
from numberdesk.agents import service as agents
from numberdesk.auth.context import system_ctx
from numberdesk.calls import service as calls
from numberdesk.numbers import service as numbers
from numberdesk.numbers.tasks import sweep_provisioning
from numberdesk.pools import service as pools
from numberdesk.providers.base import SearchQuery
from numberdesk.runtime import AppState

DAYS = 30
AGENTS = [
    ("Ava — reception", "ai_agent", "wss://agents.demo.numberdesk.dev/ava"),
    ("Sales desk", "team_member", "sip:sales@pbx.demo.numberdesk.dev"),
    ("Support IVR", "service", "sip:ivr@pbx.demo.numberdesk.dev"),
    ("On-call phone", "team_member", "+14155550142"),
]
# (search, how many, department, assignment: agent index, "pool" or None, calls per weekday)
NUMBERS = [
    ({"country": "US", "area_code": "415"}, 3, "support", 0, 38),
    ({"country": "US", "area_code": "646"}, 2, "sales", "pool", 24),
    ({"country": "US", "area_code": "617"}, 2, "sales", 1, 18),
    ({"country": "US", "type": "toll_free"}, 2, "support", 2, 30),
    ({"country": "GB", "type": "local"}, 1, "support", 0, 12),
    ({"country": "CA"}, 1, "ops", 3, 6),
    ({"country": "US", "area_code": "206"}, 1, None, None, 4),
]
# Missed calls, about 10 % in all.
MISSED = (("no_answer", 0.06), ("busy", 0.02), ("canceled", 0.015), ("failed", 0.005))


@dataclass
class _Record:
    number: str
    direction: str
    from_: str
    to: str
    started_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    status: str


def _hour_weight(hour: int, weekday: int) -> float:
    """Relative call volume of a local hour: a morning and an afternoon peak on weekdays."""
    if weekday >= 5:
        return 0.15 + 0.35 * math.exp(-((hour - 13) ** 2) / 18)
    return 0.05 + math.exp(-((hour - 10.5) ** 2) / 4) + 1.2 * math.exp(-((hour - 15) ** 2) / 5)


def _caller(rng: random.Random) -> str:
    area = rng.choice(["415", "510", "650", "212", "718", "312", "773", "617", "206", "303"])
    return f"+1{area}555{rng.randint(100, 199):04d}"


def _calls(rng: random.Random, e164: str, per_weekday: int, start: dt.datetime, end: dt.datetime,
           tz: dt.tzinfo) -> list[_Record]:
    out: list[_Record] = []
    day = start.astimezone(tz).date()
    weights = {(h, wd): _hour_weight(h, wd) for h in range(24) for wd in range(7)}
    total_weekday = sum(weights[(h, 0)] for h in range(24))
    while True:
        midnight = dt.datetime(day.year, day.month, day.day, tzinfo=tz)
        if midnight.astimezone(dt.UTC) >= end:
            return out
        for hour in range(24):
            mean = per_weekday * weights[(hour, day.weekday())] / total_weekday
            # Poisson arrivals per hour (Knuth: small means).
            n, p, limit = 0, rng.random(), math.exp(-mean)
            while p > limit:
                n += 1
                p *= rng.random()
            for _ in range(n):
                local = midnight + dt.timedelta(hours=hour, seconds=rng.randrange(3600))
                t = local.astimezone(dt.UTC)
                if not start <= t < end:
                    continue
                ring = dt.timedelta(seconds=rng.randint(3, 22))
                r = rng.random()
                status = "completed"
                for name, share in MISSED:
                    if r < share:
                        status = name
                        break
                    r -= share
                outbound = rng.random() < 0.12
                caller = _caller(rng)
                frm, to = (e164, caller) if outbound else (caller, e164)
                if status == "completed":
                    talk = dt.timedelta(seconds=max(8, int(rng.lognormvariate(math.log(150), 0.75))))
                    out.append(_Record(e164, "outbound" if outbound else "inbound", frm, to, t, t + ring,
                                       t + ring + talk, status))
                else:
                    out.append(_Record(e164, "outbound" if outbound else "inbound", frm, to, t, None,
                                       t + ring, status))
        day += dt.timedelta(days=1)


def seed(st: AppState, account_id: str) -> None:
    """Fill the demo account: agents, a pool, ~12 numbers (bought 31 days ago) and 30 days of calls."""
    from numberdesk.analytics.periods import zone

    rng = random.Random(20261125)
    now = st.clock.now()
    bought_at = now - dt.timedelta(days=DAYS + 1)
    with st.db.session() as s:
        ctx = system_ctx(s, st.settings, account_id, bought_at)
        account = s.get(Account, account_id)
        tz = zone(account.timezone if account else "UTC")
        made = [agents.create(ctx, name, kind, dest) for name, kind, dest in AGENTS]
        pool = pools.create(ctx, "NYC sales pool", "local_presence", made[1].id)
        bought: list[tuple[str, str, int]] = []
        for query, count, department, assign, volume in NUMBERS:
            found = numbers.search_available(ctx, SearchQuery(limit=count, **query))
            if len(found) < count:  # a small sandbox inventory may lack that area code
                found += numbers.search_available(ctx, SearchQuery(country="US", limit=count - len(found)))
            for listing in found:
                n = numbers.purchase(ctx, listing.phone_number, department=department,
                                     tags=["demo", department] if department else ["demo"])
                bought.append((n.id, n.phone_number, volume))
                if assign == "pool":
                    numbers.assign(ctx, n.id, pool_id=pool.id)
                elif assign is not None:
                    numbers.assign(ctx, n.id, agent_id=made[assign].id)
        s.flush()
        # The sandbox provisioned them a minute after purchase, a month ago.
        sweep_provisioning(s, st.settings, now)
        if account is not None:
            account.fallback_destination = AGENTS[0][2]
        # One number bought just now, still being provisioned.
        ctx_now = system_ctx(s, st.settings, account_id, now)
        fresh = (numbers.search_available(ctx_now, SearchQuery(country="US", area_code="303", limit=1))
                 or numbers.search_available(ctx_now, SearchQuery(country="US", limit=1)))
        for listing in fresh:
            numbers.purchase(ctx_now, listing.phone_number, department="support", tags=["demo"])

        records: list[_Record] = []
        for _, e164, volume in bought:
            records += _calls(rng, e164, volume, now - dt.timedelta(days=DAYS), now, tz)
        records.sort(key=lambda r: r.started_at)
        for i in range(0, len(records), calls.MAX_BATCH):
            calls.ingest(ctx_now, records[i:i + calls.MAX_BATCH])
