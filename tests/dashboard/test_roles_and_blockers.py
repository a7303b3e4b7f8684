"""In the browser: a viewer sees no actions and is refused anyway; a blocked release
lists every blocker on its own line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import expect

from numberdesk.calls.models import ActiveCall
from tests.dashboard.helpers import add_user
from tests.dashboard.test_journey import shot, sign_in_page

pytestmark = pytest.mark.browser


def test_viewer_sees_no_action_and_forged_posts_are_refused(context, live_server, app, alice) -> None:  # type: ignore[no-untyped-def]
    n = alice.buy()
    alice.advance(120)
    password = add_user(app, alice.account_id, "vera@acme.example", "viewer")
    page = context.new_page()
    try:
        sign_in_page(page, live_server.url, "vera@acme.example", password)
        row = page.locator(f"#num-{n['id']}")
        expect(row).to_have_attribute("data-status", "active")
        expect(page.locator(".topbar .role-badge")).to_have_text("viewer")
        # No action anywhere: not on the table, not in the top bar, not on the number page.
        assert page.locator("[data-action]").count() == 0
        assert page.locator("[data-testid=add-number]").count() == 0
        assert page.locator("#sandbox-clock form").count() == 0
        expect(page.locator(".sidenav")).not_to_contain_text("Billing")
        expect(page.locator(".sidenav")).not_to_contain_text("Audit log")
        page.click(f"#num-{n['id']} a.nat")
        expect(page.locator("h1")).to_contain_text(n["national_format"])
        assert page.locator("[data-action]").count() == 0
        assert page.locator("#audit-h").count() == 0

        # A forged POST with the viewer's own valid token: the service refuses it.
        token = page.locator("input[name=csrf_token]").first.get_attribute("value")
        assert token
        form = {"reason": "no_longer_needed", "acknowledge": "yes", "csrf_token": token}
        r = page.request.post(f"{live_server.url}/numbers/{n['id']}/release", form=form)
        assert r.status == 403 and "viewer role may not do this" in r.text()
        r = page.request.post(f"{live_server.url}/numbers/{n['id']}/release",
                              form={k: v for k, v in form.items() if k != "csrf_token"})
        assert r.status == 403 and "security token" in r.text()
        assert alice.number(n["id"])["status"] == "active"
    finally:
        page.close()


def test_a_blocked_release_shows_every_blocker(context, live_server, app, alice, shots: Path) -> None:  # type: ignore[no-untyped-def]
    n = alice.buy()
    alice.advance(120)
    r = alice.post("/v1/automations", {"name": "Night IVR", "kind": "call_flow", "number_ids": [n["id"]]})
    assert r.status_code == 201, r.text
    st = app.state.nd
    now = st.clock.now()
    with st.db.session() as s:
        s.add(ActiveCall(account_id=alice.account_id, number_id=n["id"], provider="sandbox", call_sid="CA-live-1",
                         status="in_progress", from_number="+14155550100", started_at=now - dt.timedelta(minutes=3),
                         updated_at=now))
    page = context.new_page()
    try:
        sign_in_page(page, live_server.url, alice.email, alice.password)
        row = page.locator(f"#num-{n['id']}")
        row.locator("[data-action=release]").click()
        dialog = page.locator("#dlg")
        expect(dialog).to_be_visible()
        # Before anything is sent, the dialog already says what stands in the way.
        expect(dialog.locator(".alert.warn li")).to_have_count(2)
        page.select_option("#r-reason", "replaced")
        page.check("input[name=acknowledge]")
        page.click("#r-submit")
        refusal = dialog.locator(".alert.bad")
        expect(refusal).to_contain_text("The number was not released")
        lines = refusal.locator("li")
        expect(lines).to_have_count(2)
        expect(lines.nth(0)).to_contain_text("1 call is in progress")
        expect(lines.nth(0)).to_contain_text("Wait until it ends, then release again")
        expect(lines.nth(1)).to_contain_text("Used by call flow “Night IVR”. Tick “Also detach it from them”")
        expect(dialog.locator("input[name=detach_dependencies]")).to_be_visible()
        shot(page, shots / "release-blocked.png")
        assert alice.number(n["id"])["status"] == "active"
    finally:
        page.close()
