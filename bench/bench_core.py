"""Core benchmarks: searching a 1,000,000-number carrier inventory, and paging an account of 100,000 numbers.

(1) Search. The sandbox inventory of 1,000,000 numbers (built once, cached in
    ``bench/.cache``), searched through the real service path
    (``numbers.service.search_available`` with a request's context on a SQLite
    database whose accounts hold 20,000 of those numbers, which every search must
    skip). ``contains`` patterns (vanity letters, digits, ``*``) without and with an
    area code; p50 over every pattern and repetition. Targets: p50 <= 20 ms without
    an area code, <= 5 ms with one. Reference, same run: a plain
    ``LIKE '%…%' LIMIT 20`` scan of the same 1,000,000 numbers in a SQLite table.
(2) Inventory list. An account with 100,000 numbers (bulk insert; another account
    holds 20,000 more), filtered ``status=active`` and sorted, read through the
    service path the endpoint uses (``numbers.service.list_numbers`` and the page
    shaping): the first page and a page 50,000 rows deep. Target: both p50 <= 15 ms.
    Reference, same run: the same query paged with OFFSET.

``python -m bench core`` runs this module; ``run()`` returns one dict per figure.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import CACHE, figure, p50, p90, say, timings_ms

SEED = 20261125
INVENTORY = 1_000_000
HELD = 20_000
PATTERNS = ["CALL", "HELP", "CARS", "BOOK", "SALES", "PIZZA", "FLOWER", "777", "123", "2024", "0000",
            "5*5*5", "1**1", "7*7", "99999", "8*8*8*"]
AREA_CODES = ["415", "310", "301", "410", "972", "718"]
SEARCH_ROUNDS = 5
ACCOUNT_NUMBERS = 100_000
OTHER_NUMBERS = 20_000
PAGE = 50
DEEP = 50_000
LIST_REPEAT = 40
SEARCH_TARGET_MS, SEARCH_AREA_TARGET_MS, LIST_TARGET_MS = 20.0, 5.0, 15.0


def _keypad(pattern: str) -> str:
    from numberdesk.providers.base import keypad_digits

    return keypad_digits(pattern)


class Deployment:
    """A migrated SQLite deployment in a temporary directory, sharing the cached inventory."""

    def __init__(self, work: Path) -> None:
        from numberdesk.config import Settings
        from numberdesk.migrate import upgrade
        from numberdesk.runtime import AppState

        data = work / "data"
        data.mkdir(parents=True)
        # The carrier finds its inventory where the benchmarks keep it.
        (data / "sandbox-cache").symlink_to(CACHE, target_is_directory=True)
        self.settings = Settings(data_dir=data, sandbox_seed=SEED, sandbox_inventory_size=INVENTORY,
                                 secret_key="bench")  # noqa: S106 (a throwaway key)
        upgrade(self.settings.resolved_database_url)
        self.st = AppState.from_settings(self.settings)

    def account(self, name: str) -> str:
        from numberdesk.accounts.service import create_account

        with self.st.db.session() as s:
            return create_account(s, self.st.clock.now(), name, f"{name.lower()}@bench.example").account.id

    def ctx(self, session: Any, account_id: str) -> Any:
        from numberdesk.auth.context import Ctx

        return Ctx(session=session, account_id=account_id, actor="bench", role="owner", clock=self.st.clock,
                   settings=self.settings)


def _number_rows(account_id: str, numbers: list[str], now: dt.datetime, rng: random.Random,
                 prefix: str) -> list[dict[str, Any]]:
    statuses = ["active"] * 70 + ["pending"] * 15 + ["inactive"] * 5 + ["released"] * 10
    rows = []
    for i, e164 in enumerate(numbers):
        status = statuses[rng.randrange(100)]
        bought = now - dt.timedelta(seconds=rng.randrange(3 * 365 * 86400))
        released = status == "released"
        rows.append({
            "id": f"num_{prefix}{i:012d}", "account_id": account_id, "phone_number": e164, "country": "US",
            "type": "local", "cap_voice": True, "cap_sms": True, "cap_mms": False, "locality": None,
            "region": None, "friendly_name": f"Line {rng.randrange(10**6):06d}",
            "department": rng.choice(["sales", "support", "ops", None]), "status": status,
            "status_reason": "billing" if status == "inactive" else None,
            "monthly_price_minor": rng.choice([115, 130, 215, 400]), "setup_price_minor": 0, "currency": "USD",
            "provider": "sandbox", "provider_ref": f"sbo_{prefix}{i:012d}", "purchased_at": bought,
            "activated_at": bought if status != "pending" else None, "created_at": bought, "updated_at": bought,
            "version": 1, "released_at": now if released else None,
            "release_reason": "no_longer_needed" if released else None,
            "cooldown_ends_at": now + dt.timedelta(hours=24) if released else None,
            "reclaim_deadline": now + dt.timedelta(days=10) if released else None,
        })
    return rows


def _insert(deployment: Deployment, rows: list[dict[str, Any]], orders: bool) -> None:
    from sqlalchemy import insert

    from numberdesk.numbers.models import PhoneNumber
    from numberdesk.providers.sandbox.models import SandboxOrder

    with deployment.st.db.session() as s:
        for k in range(0, len(rows), 10_000):
            chunk = rows[k:k + 10_000]
            s.execute(insert(PhoneNumber), chunk)
            if orders:
                s.execute(insert(SandboxOrder), [
                    {"id": r["provider_ref"], "phone_number": r["phone_number"],
                     "status": "released" if r["status"] == "released" else "active", "created_at": r["created_at"],
                     "ready_at": r["created_at"], "stalled": False, "config_broken": False} for r in chunk])
    with deployment.st.db.engine.connect() as c:
        c.exec_driver_sql("ANALYZE")


# -- (1) search -------------------------------------------------------------------
def bench_search(work: Path) -> list[dict[str, Any]]:
    from numberdesk.numbers.service import search_available
    from numberdesk.providers.base import SearchQuery
    from numberdesk.providers.sandbox.inventory import Inventory

    t = time.perf_counter()
    inventory = Inventory.build(SEED, INVENTORY, cache_dir=CACHE)
    say(f"  inventory of {len(inventory):,} numbers ready in {time.perf_counter() - t:.1f} s")
    listings = list(inventory)
    d = Deployment(work / "search")
    account = d.account("Searcher")
    rng = random.Random(1)
    held = [x.phone_number for x in rng.sample(listings, HELD)]
    _insert(d, _number_rows(account, held, d.st.clock.now(), rng, "h"), orders=True)
    held_set = set(held)

    def service_search(**query: Any) -> list[Any]:
        with d.st.db.session(write=False) as s:
            return search_available(d.ctx(s, account), SearchQuery(limit=20, **query))

    # The service answers what the carrier has, never a held number.
    for p in PATTERNS[:4]:
        found = service_search(contains=p)
        assert found and not {x.phone_number for x in found} & held_set
        assert all(_keypad(p).replace("*", "") in x.phone_number or "*" in p for x in found)

    def over(queries: list[dict[str, Any]], fn: Any) -> list[float]:
        out: list[float] = []
        for _ in range(SEARCH_ROUNDS):
            for q in queries:
                out += timings_ms(lambda q=q: fn(**q), repeat=1, warmup=0)
        return out

    plain = [{"contains": p} for p in PATTERNS]
    with_area = [{"contains": p, "area_code": a} for p in PATTERNS for a in AREA_CODES]
    over(plain[:3], service_search)  # warm the connection pools and caches
    service_plain = over(plain, service_search)
    service_area = over(with_area, service_search)

    # Reference: the same numbers in a SQLite table, LIKE '%digits%' with _ for '*'.
    ref_path = work / "like.sqlite3"
    con = sqlite3.connect(ref_path)
    con.execute("CREATE TABLE available (e164 TEXT NOT NULL, nsn TEXT NOT NULL)")
    con.executemany("INSERT INTO available VALUES (?, ?)",
                    ((x.phone_number, x.phone_number[2:] if x.phone_number.startswith("+1") else x.phone_number[3:])
                     for x in listings))
    con.commit()

    def like(contains: str, area_code: str | None = None) -> list[Any]:
        pattern = "%" + _keypad(contains).replace("*", "_") + "%"
        if area_code:
            return con.execute("SELECT e164 FROM available WHERE nsn LIKE ? AND nsn LIKE ? LIMIT 20",
                               (area_code + "%", pattern)).fetchall()
        return con.execute("SELECT e164 FROM available WHERE nsn LIKE ? LIMIT 20", (pattern,)).fetchall()

    over(plain[:3], like)
    like_plain = over(plain, like)
    like_area = over(with_area, like)
    con.close()
    d.st.db.dispose()
    return [
        figure("core", "search 1M inventory, contains, no area code (p50)", p50(service_plain), "ms",
               "SQLite LIKE '%…%' scan (p50)", p50(like_plain), f"<= {SEARCH_TARGET_MS:g} ms",
               p50(service_plain) <= SEARCH_TARGET_MS, p90=round(p90(service_plain), 3),
               reference_p90=round(p90(like_plain), 3), queries=len(service_plain)),
        figure("core", "search 1M inventory, contains + area code (p50)", p50(service_area), "ms",
               "SQLite LIKE '%…%' scan (p50)", p50(like_area), f"<= {SEARCH_AREA_TARGET_MS:g} ms",
               p50(service_area) <= SEARCH_AREA_TARGET_MS, p90=round(p90(service_area), 3),
               reference_p90=round(p90(like_area), 3), queries=len(service_area)),
    ]


# -- (2) inventory list -------------------------------------------------------------
def bench_list(work: Path) -> list[dict[str, Any]]:
    from numberdesk.numbers import repository, service
    from numberdesk.numbers.models import PhoneNumber
    from numberdesk.numbers.schemas import present

    d = Deployment(work / "list")
    mine, other = d.account("Big"), d.account("Other")
    rng = random.Random(2)
    numbers = [f"+1{rng.randrange(200, 999)}{rng.randrange(10**7):07d}" for _ in range(ACCOUNT_NUMBERS + OTHER_NUMBERS)]
    numbers = list(dict.fromkeys(numbers))
    now = d.st.clock.now()
    t = time.perf_counter()
    _insert(d, _number_rows(mine, numbers[:ACCOUNT_NUMBERS], now, rng, "a"), orders=False)
    _insert(d, _number_rows(other, numbers[ACCOUNT_NUMBERS:], now, rng, "b"), orders=False)
    say(f"  {ACCOUNT_NUMBERS + OTHER_NUMBERS:,} numbers inserted in {time.perf_counter() - t:.1f} s")
    flt = service.NumberFilter(status="active")
    rows: list[dict[str, Any]] = []
    for sort in ("-purchased_at", "phone_number"):
        key, desc = service.parse_sort(sort)
        col = repository.SORTS[key][0]
        order = (col.desc(), PhoneNumber.id.desc()) if desc else (col.asc(), PhoneNumber.id.asc())
        with d.st.db.session(write=False) as s:
            total = len(s.scalars(repository.filtered(d.ctx(s, mine), flt)).all())
            last_before_deep = s.scalars(repository.filtered(d.ctx(s, mine), flt).order_by(*order)
                                         .offset(DEEP - 1).limit(1)).one()
            after = (service.sort_value(last_before_deep, sort), last_before_deep.id)
            offset_deep_ids = [n.id for n in s.scalars(repository.filtered(d.ctx(s, mine), flt).order_by(*order)
                                                       .offset(DEEP).limit(PAGE))]
        assert total > DEEP + PAGE, total

        def keyset(after: Any = None, sort: str = sort) -> list[dict[str, Any]]:
            with d.st.db.session(write=False) as s:
                ctx = d.ctx(s, mine)
                page = service.list_numbers(ctx, flt, sort=sort, limit=PAGE, after=after)
                return present(ctx, page[:PAGE])

        def offset(skip: int, order: Any = order) -> list[dict[str, Any]]:
            with d.st.db.session(write=False) as s:
                ctx = d.ctx(s, mine)
                page = list(s.scalars(repository.filtered(ctx, flt).order_by(*order).offset(skip).limit(PAGE + 1)))
                return present(ctx, page[:PAGE])

        # Same rows either way.
        assert [r["id"] for r in keyset(after)] == offset_deep_ids == [r["id"] for r in offset(DEEP)]
        first_k = timings_ms(keyset, LIST_REPEAT)
        first_o = timings_ms(lambda: offset(0), LIST_REPEAT)
        deep_k = timings_ms(lambda after=after: keyset(after), LIST_REPEAT)
        deep_o = timings_ms(lambda: offset(DEEP), LIST_REPEAT)
        label = f"status=active, sort={sort}"
        rows += [
            figure("core", f"inventory list 100k, first page, {label} (p50)", p50(first_k), "ms",
                   "OFFSET paging (p50)", p50(first_o), f"<= {LIST_TARGET_MS:g} ms", p50(first_k) <= LIST_TARGET_MS,
                   p90=round(p90(first_k), 3), matching_rows=total),
            figure("core", f"inventory list 100k, page at row 50,000, {label} (p50)", p50(deep_k), "ms",
                   "OFFSET paging (p50)", p50(deep_o), f"<= {LIST_TARGET_MS:g} ms", p50(deep_k) <= LIST_TARGET_MS,
                   p90=round(p90(deep_k), 3), matching_rows=total),
        ]
    d.st.db.dispose()
    return rows


def run() -> list[dict[str, Any]]:
    """Both benchmarks at full size (about a minute once the inventory is cached)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="nd-bench-core-") as tmp:
        work = Path(tmp)
        return bench_search(work) + bench_list(work)


if __name__ == "__main__":
    import sys

    sys.exit(__import__("bench.__main__", fromlist=["main"]).main(["core"]))
