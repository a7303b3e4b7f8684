"""Without JavaScript the pages still read correctly, and the forms still work."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.dashboard.test_journey import sign_in_page

pytestmark = pytest.mark.browser


def test_release_without_javascript(browser, live_server, alice) -> None:  # type: ignore[no-untyped-def]
    n = alice.buy()
    alice.advance(120)
    context = browser.new_context(viewport={"width": 1280, "height": 860}, java_script_enabled=False)
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        sign_in_page(page, live_server.url, alice.email, alice.password)
        row = page.locator(f"#num-{n['id']}")
        expect(row).to_contain_text(n["national_format"])
        expect(row.locator(".badge")).to_have_text("active")
        # The dialog's link is a page of its own.
        row.locator("[data-action=release]").click()
        expect(page.locator("h2#dlg-title")).to_contain_text("Release")
        expect(page.locator("#r-submit")).to_be_enabled()
        page.select_option("#r-reason", "other")
        page.fill("#r-text", "Test line retired")
        page.check("input[name=acknowledge]")
        page.click("#r-submit")
        expect(page.locator("h1")).to_have_text("Phone Numbers")
        expect(page.locator(f"#num-{n['id']}")).to_have_attribute("data-status", "released")
        released = alice.number(n["id"])["release"]
        assert released["reason"] == "other" and released["reason_text"] == "Test line retired"
        # Filters work as a plain form; the chips are plain links.
        page.select_option("#f-status", "released")
        page.click(".filters button:has-text('Apply')")
        expect(page.locator(".chip").first).to_contain_text("Status: released")
        page.locator(".chip").first.click()
        expect(page.locator(".chip")).to_have_count(0)
    finally:
        context.close()
