"""``numberdesk numbers release|reactivation|reactivate|history`` against a real server."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time

import httpx

from tests.lifecycle.helpers import add_active_call, end_calls, sandbox_now, ts


def _cli(live, key: str, *args: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBERDESK_")}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "numberdesk", "numbers", *args, "--url", live.url, "--api-key", key],
        env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_release_and_reactivate_from_the_cli(app, alice, live_server) -> None:  # type: ignore[no-untyped-def]
    key = alice.api_key
    n = alice.buy()
    r = alice.post("/v1/automations", {"name": "Main IVR", "kind": "call_flow", "number_ids": [n["id"]]})
    assert r.status_code == 201
    add_active_call(app, alice, n["id"])

    out = _cli(live_server, key, "release", n["id"], "--reason", "no_longer_needed", "--yes")
    assert out.returncode == 1, out.stdout
    lines = out.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and lines[0].endswith("[release_blocked]")
    assert lines[1].startswith("  - ") and lines[1].endswith("[active_calls]") and "in progress" in lines[1]
    assert lines[2].startswith("  - ") and lines[2].endswith("[has_dependencies]") and "Main IVR" in lines[2]
    assert len(lines) == 3

    out = _cli(live_server, key, "release", n["id"], "--reason", "no_longer_needed")
    assert out.returncode == 1
    assert "acknowledge" in out.stderr and "[validation_error]" in out.stderr
    out = _cli(live_server, key, "release", n["id"], "--reason", "other", "--yes")
    assert out.returncode == 1 and "reason_text" in out.stderr
    out = _cli(live_server, alice.keys.get("viewer") or _viewer(alice), "release", n["id"],
               "--reason", "replaced", "--yes")
    assert out.returncode == 1 and "[forbidden]" in out.stderr
    assert alice.number(n["id"])["status"] == "pending"

    end_calls(app, n["id"])
    out = _cli(live_server, key, "release", n["id"], "--reason", "replaced", "--notes", "new IVR", "--yes",
               "--detach-dependencies")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("released ") and n["id"] in out.stdout
    released = alice.number(n["id"])
    assert released["status"] == "released" and released["release"]["notes"] == "new IVR"
    assert f"cooldown ends  {released['release']['cooldown_ends_at']}" in out.stdout

    out = _cli(live_server, key, "reactivation", n["id"])
    assert out.returncode == 0, out.stderr
    assert "not eligible" in out.stdout
    check_lines = [ln.strip() for ln in out.stdout.splitlines() if ln.strip().startswith(("ok", "FAIL"))]
    assert len(check_lines) == 6
    assert [ln.split()[0] for ln in check_lines] == ["ok", "FAIL", "ok", "ok", "ok", "ok"]
    assert check_lines[1].endswith("[in_cooldown]")

    out = _cli(live_server, key, "reactivate", n["id"])
    assert out.returncode == 1 and out.stderr.strip().endswith("[in_cooldown]")

    # Move the server's clock past the cooldown.
    gap = (ts(released["release"]["cooldown_ends_at"]) - sandbox_now(alice)).total_seconds()
    r = httpx.post(f"{live_server.url}/v1/sandbox/clock/advance", json={"seconds": int(gap) + 2},
                   headers=alice.headers, timeout=30)
    assert r.status_code == 200, r.text

    out = _cli(live_server, key, "reactivation", n["id"], "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["eligible"] is True
    out = _cli(live_server, key, "reactivate", n["id"])
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("reactivated ") and "status pending" in out.stdout  # released while pending
    assert alice.number(n["id"])["status"] == "pending"

    out = _cli(live_server, key, "history", n["id"], "--json")
    assert out.returncode == 0
    assert [(h["from"], h["to"]) for h in json.loads(out.stdout)["data"]] == [
        (None, "pending"), ("pending", "released"), ("released", "pending")]
    out = _cli(live_server, key, "history", n["id"])
    assert out.returncode == 0 and "reactivated" in out.stdout and "replaced" in out.stdout

    out = _cli(live_server, key, "reactivate", "num_missing")
    assert out.returncode == 1 and "[not_found]" in out.stderr


def _viewer(alice) -> str:  # type: ignore[no-untyped-def]
    alice.h("viewer")
    return alice.keys["viewer"]


def test_serve_runs_the_worker_in_process(app, alice, live_server) -> None:  # type: ignore[no-untyped-def]
    """Nobody calls the sweeps here: the server's own worker turns the number active."""
    n = alice.buy()
    app.state.nd.clock.advance(61)   # moves the shared clock only; runs no sweep
    assert alice.number(n["id"])["status"] == "pending"
    deadline = time.monotonic() + 60
    status = "pending"
    while time.monotonic() < deadline and status == "pending":
        time.sleep(0.5)
        r = httpx.get(f"{live_server.url}/v1/numbers/{n['id']}", headers=alice.headers, timeout=10)
        status = r.json()["status"]
    assert status == "active"
    history = alice.get(f"/v1/numbers/{n['id']}/history").json()["data"]
    assert [(h["to"], h["actor"]) for h in history] == [("pending", history[0]["actor"]), ("active", "system")]
    assert ts(history[1]["at"]) == ts(n["purchased_at"]) + dt.timedelta(seconds=60)
