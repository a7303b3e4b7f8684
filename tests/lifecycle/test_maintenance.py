"""During a maintenance window buying, releasing and reactivating answer 503; reading works."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import settings_env
from tests.lifecycle.helpers import advance_to, audit_count, release, released_number, ts


def _cli(settings, *args: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run([sys.executable, "-m", "numberdesk", *args], env=settings_env(settings),
                          capture_output=True, text=True, timeout=120)


def test_maintenance_window_pauses_writes(app, alice, settings) -> None:  # type: ignore[no-untyped-def]
    held = alice.buy()
    gone = released_number(alice)
    # Past the cooldown, so only maintenance stands in the way of the reactivation.
    advance_to(alice, ts(gone["release"]["cooldown_ends_at"]), 1)
    candidate = alice.search(limit=1)[0]["phone_number"]

    out = _cli(settings, "maintenance", "start", "--minutes", "30")
    assert out.returncode == 0, out.stderr
    assert "maintenance until" in out.stdout
    events = audit_count(app, alice.account_id)

    refused = [
        alice.post("/v1/numbers", {"phone_number": candidate}),
        release(alice, held["id"]),
        alice.post(f"/v1/numbers/{gone['id']}/reactivate", {}),
    ]
    for r in refused:
        assert r.status_code == 503, r.text
        assert r.json()["code"] == "maintenance"
        assert 1 <= int(r.headers["Retry-After"]) <= 30 * 60
        assert r.headers["content-type"].startswith("application/problem+json")
    assert audit_count(app, alice.account_id) == events

    for path in ("/v1/numbers", f"/v1/numbers/{held['id']}", f"/v1/numbers/{gone['id']}/reactivation",
                 f"/v1/numbers/{held['id']}/history", "/v1/available-numbers", "/v1/audit-events"):
        assert alice.get(path).status_code == 200, path
    assert alice.number(held["id"])["status"] == "active"   # provisioned during the advance, not released

    out = _cli(settings, "maintenance", "end")
    assert out.returncode == 0 and "maintenance ended" in out.stdout
    assert release(alice, held["id"]).status_code == 200
    assert alice.post(f"/v1/numbers/{gone['id']}/reactivate", {}).status_code == 200
    assert alice.post("/v1/numbers", {"phone_number": candidate}).status_code == 201


def test_window_ends_by_itself(app, alice) -> None:  # type: ignore[no-untyped-def]
    from numberdesk.maintenance.service import start_maintenance

    n = alice.buy()
    st = app.state.nd
    with st.db.session() as s:
        start_maintenance(s, st.clock.now(), 2)
    r = release(alice, n["id"])
    assert r.status_code == 503 and 60 <= int(r.headers["Retry-After"]) <= 120
    alice.advance(121)
    assert release(alice, n["id"]).status_code == 200
