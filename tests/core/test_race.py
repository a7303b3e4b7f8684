"""Many buyers racing for the same numbers against a running server process."""

from __future__ import annotations

import threading
import uuid
from collections import Counter, defaultdict

import httpx

from tests.core.helpers import query

NUMBERS = 20
ATTEMPTS_PER_NUMBER = 12  # 240 attempts in all, from two accounts


def test_concurrent_purchases_have_exactly_one_winner_per_number(live_server, alice, bob, db_url):
    targets = [x["phone_number"] for x in alice.search(country="US", limit=NUMBERS)]
    assert len(targets) == NUMBERS
    buyers = [alice, bob]
    jobs = []
    for i, number in enumerate(targets):
        for k in range(ATTEMPTS_PER_NUMBER):
            # Half the attempts carry an Idempotency-Key (as the CLI and SDKs do), each its own.
            key = str(uuid.uuid4()) if k % 2 else None
            jobs.append((buyers[(i + k) % 2], number, key))
    assert len(jobs) >= 200

    start = threading.Barrier(len(jobs))
    results: list[tuple[str, str, int, dict]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def attempt(persona, number: str, key: str | None) -> None:  # runs in its own thread
        headers = {**persona.headers, **({"Idempotency-Key": key} if key else {})}
        try:
            start.wait(timeout=60)
            r = http.post("/v1/numbers", json={"phone_number": number}, headers=headers)
            with lock:
                results.append((persona.account_id, number, r.status_code, r.json()))
        except BaseException as exc:  # reported below; a thread must not die silently
            with lock:
                errors.append(exc)

    # One connection per attempt, all opened before the start line.
    limits = httpx.Limits(max_connections=len(jobs), max_keepalive_connections=len(jobs))
    with httpx.Client(base_url=live_server.url, timeout=120, limits=limits) as http:
        threads = [threading.Thread(target=attempt, args=job) for job in jobs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
    assert not errors, errors[:3]
    assert len(results) == len(jobs)

    statuses = Counter(status for _, _, status, _ in results)
    assert not [s for s in statuses if s >= 500], (statuses, live_server.log.read_text()[-3000:])
    assert set(statuses) <= {201, 409}, statuses
    assert statuses[201] == NUMBERS, statuses
    winners: dict[str, list[str]] = defaultdict(list)
    for account_id, number, status, body in results:
        if status == 201:
            winners[number].append(account_id)
            assert body["phone_number"] == number and body["status"] == "pending"
        else:
            assert body["code"] == "number_unavailable", body
            assert body["status"] == 409 and body["detail"]
    assert sorted(winners) == sorted(targets)
    assert all(len(w) == 1 for w in winners.values()), winners
    assert {w[0] for w in winners.values()} <= {alice.account_id, bob.account_id}

    # The database agrees: each number has exactly one holder, and the carrier one order.
    holders = query(db_url, "SELECT phone_number, account_id FROM phone_numbers WHERE returned_at IS NULL")
    assert len(holders) == NUMBERS
    assert Counter(n for n, _ in holders).most_common(1)[0][1] == 1
    assert {n: a for n, a in holders} == {n: w[0] for n, w in winners.items()}
    orders = query(db_url, "SELECT phone_number FROM sandbox_orders")
    assert sorted(n for (n,) in orders) == sorted(targets)
    purchases = query(db_url, "SELECT count(*) FROM audit_events WHERE action = 'number.purchase'")
    assert purchases[0][0] == NUMBERS
    assert "database is locked" not in live_server.log.read_text()
