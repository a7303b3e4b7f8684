"""Accounts and API keys: hashed at rest, shown once, revocable, each with a role; the bootstrap CLI."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

from sqlalchemy import create_engine, inspect, text

from tests.conftest import settings_env
from tests.core.helpers import assert_problem, query


def database_text(db_url: str) -> str:
    """Every value of every table, as text (bytes decoded leniently)."""
    engine = create_engine(db_url)
    out = []
    try:
        with engine.connect() as c:
            for table in inspect(c).get_table_names():
                for row in c.execute(text(f'SELECT * FROM "{table}"')):
                    for v in row:
                        if isinstance(v, memoryview):
                            v = v.tobytes()
                        out.append(v.decode("latin-1") if isinstance(v, bytes) else str(v))
    finally:
        engine.dispose()
    return "\n".join(out)


def test_keys_are_stored_hashed_and_shown_once(alice, db_url):
    r = alice.post("/v1/api-keys", {"name": "deploy bot", "role": "admin"})
    assert r.status_code == 201
    new = r.json()
    assert set(new) == {"id", "api_key", "name", "role"}
    assert new["id"].startswith("key_") and new["role"] == "admin" and new["name"] == "deploy bot"
    assert r.headers["cache-control"] == "no-store"
    dump = database_text(db_url)
    for secret in (new["api_key"], alice.api_key):
        assert secret not in dump
        assert hashlib.sha256(secret.encode()).hexdigest() in dump  # what is kept instead
    listed = alice.get("/v1/api-keys").json()["data"]
    assert {k["id"] for k in listed} >= {new["id"]}
    for k in listed:
        assert set(k) == {"id", "name", "role", "prefix", "created_at", "revoked_at"}
        assert len(k["prefix"]) < 12
    assert new["api_key"] not in json.dumps(listed)
    # The key works, with its role.
    h = {"Authorization": f"Bearer {new['api_key']}"}
    assert alice.client.get("/v1/account", headers=h).status_code == 200
    assert_problem(alice.client.post("/v1/api-keys", json={"name": "x", "role": "viewer"}, headers=h), 403,
                   "forbidden")


def test_revoked_keys_are_refused(alice, bob, db_url):
    key = alice.post("/v1/api-keys", {"name": "temp", "role": "viewer"}).json()
    h = {"Authorization": f"Bearer {key['api_key']}"}
    assert alice.client.get("/v1/numbers", headers=h).status_code == 200
    # Bob cannot revoke Alice's key: it does not exist for him.
    assert_problem(bob.delete(f"/v1/api-keys/{key['id']}"), 404, "not_found")
    assert_problem(alice.delete(f"/v1/api-keys/{key['id']}", role="admin"), 403, "forbidden")
    assert alice.client.get("/v1/numbers", headers=h).status_code == 200
    assert alice.delete(f"/v1/api-keys/{key['id']}").status_code == 204
    for path in ("/v1/numbers", "/v1/account", "/v1/agents"):
        assert_problem(alice.client.get(path, headers=h), 401, "unauthenticated")
    r = alice.client.post("/v1/numbers", json={"phone_number": "+14155550100"},
                          headers={**h, "Idempotency-Key": "k"})
    assert_problem(r, 401, "unauthenticated")
    listed = {k["id"]: k for k in alice.get("/v1/api-keys").json()["data"]}
    assert listed[key["id"]]["revoked_at"] is not None
    # Revoking again is harmless; the audit log has one revocation.
    assert alice.delete(f"/v1/api-keys/{key['id']}").status_code == 204
    assert query(db_url, "SELECT count(*) FROM audit_events WHERE action='api_key.revoke'") == [(1,)]


def test_missing_or_malformed_credentials(client, alice):
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Bearer nd_nope"},
                    {"Authorization": f"Basic {alice.api_key}"}, {"Authorization": alice.api_key}):
        assert_problem(client.get("/v1/numbers", headers=headers), 401, "unauthenticated")
        assert_problem(client.post("/v1/numbers", json={}, headers=headers), 401, "unauthenticated")


def test_each_role_does_what_it_may(alice):
    n = alice.buy()
    agent = alice.agent()
    free = alice.search(limit=4)
    # viewer: reads only
    assert alice.get("/v1/numbers", role="viewer").status_code == 200
    assert_problem(alice.patch(f"/v1/numbers/{n['id']}", {"friendly_name": "v"}, role="viewer"), 403)
    # member: renames, tags, assigns; cannot buy
    assert alice.patch(f"/v1/numbers/{n['id']}", {"tags": ["m"]}, role="member").status_code == 200
    r = alice.post(f"/v1/numbers/{n['id']}/assign", {"agent_id": agent["id"]}, role="member")
    assert r.status_code == 200
    assert_problem(alice.post("/v1/numbers", {"phone_number": free[0]["phone_number"]}, role="member"), 403)
    # admin: buys and manages agents; no keys
    assert alice.post("/v1/numbers", {"phone_number": free[1]["phone_number"]}, role="admin").status_code == 201
    assert alice.post("/v1/agents", {"name": "B", "kind": "service", "destination": "+14155550100"},
                      role="admin").status_code == 201
    assert_problem(alice.post("/v1/api-keys", {"name": "x", "role": "viewer"}, role="admin"), 403)
    # owner: keys too
    assert alice.post("/v1/api-keys", {"name": "x", "role": "viewer"}).status_code == 201


def test_account(alice, bob):
    a = alice.get("/v1/account", role="viewer").json()
    assert {"id", "name", "timezone", "billing_status", "cooldown_hours", "reclaim_days"} <= set(a)
    assert a["id"] == alice.account_id and a["billing_status"] == "good"
    assert a["cooldown_hours"] == 24 and a["reclaim_days"] == 10
    assert bob.get("/v1/account").json()["id"] == bob.account_id
    r = alice.patch("/v1/account", {"timezone": "Europe/London"}, role="admin")
    assert r.status_code == 200 and r.json()["timezone"] == "Europe/London"
    assert_problem(alice.patch("/v1/account", {"timezone": "Mars/Olympus"}), 422, "validation_error")
    assert_problem(alice.patch("/v1/account", {"timezone": "UTC"}, role="member"), 403, "forbidden")
    assert bob.get("/v1/account").json()["timezone"] == "UTC"


def _cli(settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "numberdesk", *args], env=settings_env(settings),
                          capture_output=True, text=True, timeout=120)


def test_cli_bootstrap_prints_exactly_the_documented_fields(settings, client, db_url):
    out = _cli(settings, "accounts", "create", "Acme Robotics", "--owner-email", "Ops@Acme.example", "--json")
    assert out.returncode == 0, out.stderr
    created = json.loads(out.stdout)
    assert set(created) == {"account_id", "api_key", "owner_email", "password"}
    assert created["account_id"].startswith("acct_") and created["owner_email"] == "ops@acme.example"
    assert len(created["password"]) >= 12
    h = {"Authorization": f"Bearer {created['api_key']}"}
    account = client.get("/v1/account", headers=h).json()
    assert account["id"] == created["account_id"] and account["name"] == "Acme Robotics"

    out = _cli(settings, "keys", "create", "--account", created["account_id"], "--role", "member", "--json")
    assert out.returncode == 0, out.stderr
    key = json.loads(out.stdout)
    assert set(key) == {"id", "api_key", "role"}
    assert key["id"].startswith("key_") and key["role"] == "member"
    hm = {"Authorization": f"Bearer {key['api_key']}"}
    assert client.get("/v1/account", headers=hm).json()["id"] == created["account_id"]
    assert client.post("/v1/api-keys", json={"name": "x", "role": "viewer"}, headers=hm).status_code == 403
    dump = database_text(db_url)
    assert created["api_key"] not in dump and key["api_key"] not in dump and created["password"] not in dump

    # Errors: a clear message and a non-zero exit, nothing printed on stdout.
    again = _cli(settings, "accounts", "create", "Other", "--owner-email", "ops@acme.example", "--json")
    assert again.returncode == 1 and again.stdout == "" and "already" in again.stderr
    bad_role = _cli(settings, "keys", "create", "--account", created["account_id"], "--role", "god", "--json")
    assert bad_role.returncode == 1 and bad_role.stdout == "" and "role" in bad_role.stderr
    no_account = _cli(settings, "keys", "create", "--account", "acct_nope", "--role", "viewer", "--json")
    assert no_account.returncode == 1 and "acct_nope" in no_account.stderr
    assert query(db_url, "SELECT count(*) FROM accounts") == [(1,)]
