"""``numberdesk numbers …`` against a running server, as an operator runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


@pytest.fixture
def nd(live_server, alice):
    """Runs ``numberdesk numbers …`` with Alice's key against the live server."""

    def run(*args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBERDESK_")}
        env["COLUMNS"] = "200"
        return subprocess.run(
            [sys.executable, "-m", "numberdesk", "numbers", *args, "--url", live_server.url,
             "--api-key", key or alice.api_key],
            env=env, capture_output=True, text=True, timeout=120)

    return run


def as_json(out: subprocess.CompletedProcess[str]):  # type: ignore[no-untyped-def]
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_search_buy_list_show_assign(nd, alice, bob):
    found = as_json(nd("search", "--area-code", "415", "--contains", "*", "--limit", "3", "--json"))
    assert set(found) == {"data", "next_cursor"} and len(found["data"]) == 3
    for x in found["data"]:
        assert x["phone_number"].startswith("+1415")
        assert set(x) >= {"phone_number", "national_format", "monthly_price", "setup_price", "capabilities"}
    table = nd("search", "--country", "GB", "--type", "toll_free", "--limit", "2")
    assert table.returncode == 0 and "+44" in table.stdout and "15.00 GBP" in table.stdout

    target = found["data"][0]["phone_number"]
    bought = as_json(nd("buy", target, "--friendly-name", "Front desk", "--department", "sales",
                        "--tag", "vip", "--tag", "east", "--json"))
    assert bought["phone_number"] == target and bought["status"] == "pending"
    assert bought["friendly_name"] == "Front desk" and bought["tags"] == ["east", "vip"]
    human = nd("buy", found["data"][1]["phone_number"])
    assert human.returncode == 0 and "bought" in human.stdout and "pending" in human.stdout

    listed = as_json(nd("list", "--json"))
    assert {n["phone_number"] for n in listed["data"]} == {target, found["data"][1]["phone_number"]}
    assert as_json(nd("list", "--tag", "vip", "--json"))["data"][0]["id"] == bought["id"]
    assert as_json(nd("list", "--status", "active", "--json"))["data"] == []
    every = as_json(nd("list", "--limit", "1", "--all", "--json"))
    assert len(every["data"]) == 2 and every["next_cursor"] is None
    text = nd("list")
    assert text.returncode == 0 and "Front desk" in text.stdout and bought["id"] in text.stdout

    shown = as_json(nd("show", bought["id"], "--json"))
    assert shown == alice.number(bought["id"])
    assert "Front desk" in nd("show", bought["id"]).stdout

    agent = alice.agent("Ava")
    assigned = as_json(nd("assign", bought["id"], "--agent-id", agent["id"], "--json"))
    assert assigned["assignment"] == {"type": "agent", "id": agent["id"], "name": "Ava"}
    human = nd("assign", bought["id"], "--none")
    assert human.returncode == 0 and "unassigned" in human.stdout
    assert alice.number(bought["id"])["assignment"] is None

    # Bob's view: none of it.
    assert as_json(nd("list", "--json", key=bob.api_key))["data"] == []
    missing = nd("show", bought["id"], key=bob.api_key)
    assert missing.returncode == 1 and "[not_found]" in missing.stderr


def test_conflict_is_a_clear_error(nd, alice, bob):
    target = alice.search(limit=1)[0]["phone_number"]
    bob.buy(target)
    out = nd("buy", target, "--json")
    assert out.returncode == 1
    assert out.stdout == ""
    assert out.stderr.startswith("error: ")
    assert target in out.stderr and "not for sale" in out.stderr
    assert "[number_unavailable]" in out.stderr
    assert "Traceback" not in out.stderr
    # Other failures are as clear: a bad number, a wrong role, a wrong key, no server.
    bad = nd("buy", "12")
    assert bad.returncode == 1 and "[validation_error]" in bad.stderr and "Traceback" not in bad.stderr
    alice.h("viewer")  # creates Alice's viewer key
    viewer = nd("buy", alice.search(limit=1)[0]["phone_number"], key=alice.keys["viewer"])
    assert viewer.returncode == 1 and "[forbidden]" in viewer.stderr
    wrong_key = nd("list", key="nd_not_a_key")
    assert wrong_key.returncode == 1 and "[unauthenticated]" in wrong_key.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBERDESK_")}
    down = subprocess.run([sys.executable, "-m", "numberdesk", "numbers", "list", "--url", "http://127.0.0.1:9",
                           "--api-key", alice.api_key], env=env, capture_output=True, text=True, timeout=60)
    assert down.returncode == 1 and "cannot reach" in down.stderr and "Traceback" not in down.stderr
