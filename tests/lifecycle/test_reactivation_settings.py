"""The cooldown and reclaim window follow the settings (here 2 hours and 3 days)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.lifecycle.helpers import advance_to, offered, released_number, ts


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"cooldown_hours": 2, "reclaim_days": 3, "sandbox_aging_days": 1}


def _reactivate(persona, number_id: str):  # type: ignore[no-untyped-def]
    return persona.post(f"/v1/numbers/{number_id}/reactivate", {})


def test_account_shows_the_lengths_in_force(alice) -> None:  # type: ignore[no-untyped-def]
    a = alice.get("/v1/account").json()
    assert (a["cooldown_hours"], a["reclaim_days"]) == (2, 3)


def test_short_cooldown_boundaries(alice) -> None:  # type: ignore[no-untyped-def]
    n = released_number(alice)
    released_at = ts(n["release"]["released_at"])
    cooldown_end = ts(n["release"]["cooldown_ends_at"])
    assert cooldown_end - released_at == dt.timedelta(hours=2)
    assert ts(n["release"]["reclaim_deadline"]) - released_at == dt.timedelta(days=3)
    advance_to(alice, cooldown_end, -1)
    r = _reactivate(alice, n["id"])
    assert r.status_code == 409 and r.json()["code"] == "in_cooldown"
    assert ts(r.json()["cooldown_ends_at"]) == cooldown_end
    advance_to(alice, cooldown_end, 1)
    r = _reactivate(alice, n["id"])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "active"


def test_short_window_boundaries_and_aging(alice, bob) -> None:  # type: ignore[no-untyped-def]
    keep = released_number(alice)
    lose = released_number(alice)
    advance_to(alice, ts(keep["release"]["reclaim_deadline"]), -1)
    assert _reactivate(alice, keep["id"]).status_code == 200
    deadline = ts(lose["release"]["reclaim_deadline"])
    advance_to(alice, deadline, 1)
    r = _reactivate(alice, lose["id"])
    assert r.status_code == 409 and r.json()["code"] == "reclaim_window_expired"
    assert not offered(bob, lose["phone_number"])
    advance_to(alice, deadline + dt.timedelta(days=1), 1)
    assert offered(bob, lose["phone_number"])
    assert bob.buy(lose["phone_number"])["status"] == "pending"
