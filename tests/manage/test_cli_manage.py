"""The bulk and audit CLI commands against a running server."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx

from numberdesk.accounts.service import create_account
from numberdesk.db import Database


def _cli(server, key: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    env = {**os.environ, "NUMBERDESK_URL": server.url, "NUMBERDESK_API_KEY": key}
    return subprocess.run([sys.executable, "-m", "numberdesk", "numbers", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_bulk_tag_from_stdin_and_audit_csv(live_server, settings) -> None:  # type: ignore[no-untyped-def]
    db = Database(settings.resolved_database_url)
    from numberdesk.clock import utcnow

    with db.session() as s:
        key = create_account(s, utcnow(), "CLI team", "cli@acme.example").api_key
    db.dispose()
    h = {"Authorization": f"Bearer {key}"}
    found = httpx.get(f"{live_server.url}/v1/available-numbers", params={"limit": 3}, headers=h).json()["data"]
    ids = [httpx.post(f"{live_server.url}/v1/numbers", json={"phone_number": x["phone_number"]},
                      headers=h).json()["id"] for x in found]

    r = _cli(live_server, key, "bulk", "tag", "-", "--tag", "north", "--json", stdin="\n".join(ids) + "\n")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert (out["succeeded"], out["failed"]) == (3, 0)
    tags = [httpx.get(f"{live_server.url}/v1/numbers/{i}", headers=h).json()["tags"] for i in ids]
    assert tags == [["north"]] * 3

    r = _cli(live_server, key, "bulk", "release", ids[0])
    assert r.returncode == 2 and "--yes" in r.stderr

    r = _cli(live_server, key, "bulk", "assign", ids[0], "num_doesnotexist", "--agent-id", "agt_nope")
    assert r.returncode == 1
    assert "not_found" in r.stdout

    r = _cli(live_server, key, "audit", "--csv")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[0].startswith("phone_number,")
    assert len(lines) == 4 and all("unassigned" in line for line in lines[1:])
