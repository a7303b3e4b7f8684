"""Dashboard benchmark: the inventory page on an account with 10,000 numbers.

Server time per request (in-process TestClient, many iterations, p50 and p90) for
the first page and for a filtered page, next to a bare FastAPI endpoint that
returns a constant HTML string of the same size, measured in the same run; the
ratio is what the dashboard costs over the framework itself.

    python bench/bench_dashboard.py [iterations]
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

NUMBERS = 10_000
DEPARTMENTS = ("sales", "support", "billing", "ops", None)
STATUSES = ("active",) * 7 + ("pending", "inactive", "released")


def _settings(tmp: Path) -> Any:
    from numberdesk.config import Settings

    return Settings(data_dir=tmp, provider="sandbox", sandbox_inventory_size=1000, sandbox_seed=1,
                    secret_key="bench-secret", public_url="http://testserver")  # noqa: S106  (a throwaway bench key)


def _fill(app: Any, account_id: str) -> None:
    """10,000 numbers straight into the table (bulk insert), with a spread of statuses."""
    from numberdesk.numbers.models import NumberTag, PhoneNumber

    st = app.state.nd
    now = st.clock.now()
    rows, tags = [], []
    for i in range(NUMBERS):
        status = STATUSES[i % len(STATUSES)]
        released = status == "released"
        rows.append({
            "id": f"num_bench{i:08d}", "account_id": account_id,
            "phone_number": f"+1{415 + i % 7}{5_000_000 + i:07d}", "country": "US", "type": "local",
            "cap_voice": True, "cap_sms": True, "cap_mms": False, "locality": "San Francisco", "region": "CA",
            "friendly_name": f"Line {i:05d}", "department": DEPARTMENTS[i % len(DEPARTMENTS)], "status": status,
            "status_reason": "billing" if status == "inactive" else None,
            "monthly_price_minor": 115 + (i % 5) * 100, "setup_price_minor": 0, "currency": "USD",
            "provider": "sandbox", "purchased_at": now - dt.timedelta(minutes=i), "created_at": now,
            "updated_at": now, "version": 1,
            "released_at": now - dt.timedelta(hours=1) if released else None,
            "release_reason": "no_longer_needed" if released else None,
            "cooldown_ends_at": now + dt.timedelta(hours=23) if released else None,
            "reclaim_deadline": now + dt.timedelta(days=9) if released else None,
        })
        if i % 3 == 0:
            tags.append({"number_id": f"num_bench{i:08d}", "tag": "east" if i % 2 else "west",
                         "account_id": account_id})
    with st.db.session() as s:
        s.execute(PhoneNumber.__table__.insert(), rows)
        s.execute(NumberTag.__table__.insert(), tags)


def _time(client: Any, path: str, iterations: int) -> tuple[list[float], int]:
    client.get(path)  # warm caches (templates, statements)
    out = []
    size = 0
    for _ in range(iterations):
        t0 = time.perf_counter()
        r = client.get(path)
        out.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (path, r.status_code)
        size = len(r.content)
    return out, size


def _row(name: str, samples: list[float], size: int, base: list[float] | None) -> dict[str, Any]:
    q = statistics.quantiles(samples, n=10)
    row: dict[str, Any] = {"name": name, "iterations": len(samples), "p50_ms": round(statistics.median(samples), 3),
                           "p90_ms": round(q[8], 3), "bytes": size}
    if base is not None:
        row["bare_p50_ms"] = round(statistics.median(base), 3)
        row["ratio_vs_bare"] = round(statistics.median(samples) / statistics.median(base), 2)
    return row


def run(iterations: int = 200) -> list[dict[str, Any]]:
    """Build the account, measure, and return one row per measured page."""
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse
    from fastapi.testclient import TestClient

    from numberdesk.accounts.service import create_account
    from numberdesk.app import create_app
    from numberdesk.migrate import upgrade

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        settings = _settings(tmp)
        upgrade(settings.resolved_database_url)
        app = create_app(settings)
        with TestClient(app) as client:
            st = app.state.nd
            with st.db.session() as s:
                new = create_account(s, st.clock.now(), "Bench", "bench@numberdesk.local")
                account_id, password = new.account.id, new.password
            _fill(app, account_id)
            page = client.get("/sign-in").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            r = client.post("/sign-in", data={"email": "bench@numberdesk.local", "password": password,
                                              "csrf_token": token}, follow_redirects=False)
            assert r.status_code == 303, r.text
            first, first_size = _time(client, "/", iterations)
            filtered_path = "/?status=active&department=sales&tag=west&sort=-monthly_price"
            filtered, filtered_size = _time(client, filtered_path, iterations)
            fragment, fragment_size = _time(client, "/?status=released&q=Line", iterations)

        body = "<!doctype html>" + "x" * max(first_size - 15, 0)
        bare = FastAPI()

        @bare.get("/", response_class=HTMLResponse)
        def constant() -> HTMLResponse:
            return HTMLResponse(body)

        with TestClient(bare) as bare_client:
            base, _ = _time(bare_client, "/", iterations)

    return [
        _row("dashboard inventory, first page (10,000 numbers)", first, first_size, base),
        _row("dashboard inventory, filtered (status+department+tag, sorted by price)", filtered, filtered_size,
             base),
        _row("dashboard inventory, released + search", fragment, fragment_size, base),
        _row("bare FastAPI, constant HTML of the first page's size", base, len(body.encode()), None),
    ]


def main() -> None:
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    rows = run(iterations)
    for r in rows:
        extra = f"  ratio {r['ratio_vs_bare']}x bare ({r['bare_p50_ms']} ms)" if "ratio_vs_bare" in r else ""
        print(f"{r['name']:<78} p50 {r['p50_ms']:>8.2f} ms  p90 {r['p90_ms']:>8.2f} ms  {r['bytes']:>7} B{extra}")


if __name__ == "__main__":
    main()
