"""Idempotency-Key on purchases: replays, reuse with another body, per-account scope."""

from __future__ import annotations

from tests.core.helpers import assert_problem, counts, query


def buy(persona, number: str, key: str, **body):
    return persona.post("/v1/numbers", {"phone_number": number, **body}, headers={"Idempotency-Key": key})


def test_a_retry_replays_the_first_purchase(alice, db_url):
    number = alice.search(limit=1)[0]["phone_number"]
    first = buy(alice, number, "order-1", friendly_name="Front desk")
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    again = buy(alice, number, "order-1", friendly_name="Front desk")
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["content-type"] == first.headers["content-type"]
    # One number, one carrier order, one purchase in the audit log.
    assert query(db_url, "SELECT id FROM phone_numbers") == [(first.json()["id"],)]
    assert len(query(db_url, "SELECT id FROM sandbox_orders")) == 1
    assert query(db_url, "SELECT count(*) FROM audit_events WHERE action='number.purchase'") == [(1,)]


def test_the_same_key_with_another_body_is_refused(alice, db_url):
    a, b = (x["phone_number"] for x in alice.search(limit=2))
    assert buy(alice, a, "order-2").status_code == 201
    before = counts(db_url)
    r = buy(alice, b, "order-2")
    assert_problem(r, 422, "idempotency_key_reused")
    # Also a change of an optional field is another request.
    assert_problem(buy(alice, a, "order-2", friendly_name="x"), 422, "idempotency_key_reused")
    # ... and the same body sent to another path.
    r = alice.post("/v1/agents", {"phone_number": a}, headers={"Idempotency-Key": "order-2"})
    assert_problem(r, 422, "idempotency_key_reused")
    assert counts(db_url) == before
    assert alice.search(prefix=b) != []  # b was not bought


def test_keys_are_scoped_to_the_account(alice, bob, db_url):
    a, b = (x["phone_number"] for x in alice.search(limit=2))
    mine = buy(alice, a, "shared-key")
    assert mine.status_code == 201
    # Bob uses the same key string for his own purchase: it is his own key.
    his = buy(bob, b, "shared-key")
    assert his.status_code == 201, his.text
    assert "idempotent-replayed" not in his.headers
    assert his.json()["id"] != mine.json()["id"] and his.json()["phone_number"] == b
    # Bob sending Alice's exact request with her key string buys nothing of hers.
    r = buy(bob, a, "shared-key")
    assert_problem(r, 422, "idempotency_key_reused")
    owners = dict(query(db_url, "SELECT phone_number, account_id FROM phone_numbers"))
    assert owners == {a: alice.account_id, b: bob.account_id}


def test_a_conflict_is_replayed_too(alice, bob, db_url):
    number = alice.search(limit=1)[0]["phone_number"]
    bob.buy(number)
    first = buy(alice, number, "try-1")
    body = assert_problem(first, 409, "number_unavailable")
    # The number becomes free again (Bob's hold is gone from the books)...
    query(db_url, "DELETE FROM number_tags")
    query(db_url, "DELETE FROM status_changes")
    query(db_url, "DELETE FROM phone_numbers")
    query(db_url, "DELETE FROM sandbox_orders")
    assert alice.search(prefix=number) != []
    # ... yet the retry answers what the first attempt got, and buys nothing.
    again = buy(alice, number, "try-1")
    assert again.status_code == 409 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == body
    assert query(db_url, "SELECT count(*) FROM phone_numbers") == [(0,)]
    # A new key is a new attempt.
    assert buy(alice, number, "try-2").status_code == 201


def test_bad_idempotency_keys(alice, db_url):
    number = alice.search(limit=1)[0]["phone_number"]
    before = counts(db_url)
    for key in ("x" * 256, "   "):
        r = buy(alice, number, key)
        assert_problem(r, 422, "validation_error")
    assert counts(db_url) == before


def test_a_replayed_api_key_keeps_the_secret_out_of_the_database(alice, db_url):
    r = alice.post("/v1/api-keys", {"name": "ci", "role": "viewer"}, headers={"Idempotency-Key": "key-1"})
    assert r.status_code == 201
    secret = r.json()["api_key"]
    again = alice.post("/v1/api-keys", {"name": "ci", "role": "viewer"}, headers={"Idempotency-Key": "key-1"})
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == r.json()
    assert query(db_url, "SELECT count(*) FROM api_keys WHERE name='ci'") == [(1,)]
    stored = query(db_url, "SELECT response_body FROM idempotency_records")
    assert stored and all(secret.encode() not in bytes(body) for (body,) in stored)
    # Another key of the account cannot read the first answer back.
    admin = {**alice.h("admin"), "Idempotency-Key": "key-1"}
    other = alice.client.post("/v1/api-keys", json={"name": "ci", "role": "viewer"}, headers=admin)
    assert_problem(other, 422, "idempotency_key_reused")
    assert secret not in other.text
