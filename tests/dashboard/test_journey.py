"""The guide's journey as a person does it, in a real browser against a real server.

sign in → add a number by pattern → it turns active without a reload when the
sandbox clock moves → assign it → release it → reactivation refused during the
cooldown (with the time) → clock past the cooldown → reactivate → assignment restored.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

DOCS_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def sign_in_page(page: Page, url: str, email: str, password: str) -> None:
    page.goto(f"{url}/sign-in")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button:has-text('Sign in')")
    expect(page.locator("h1")).to_have_text("Phone Numbers")


def closed(dialog) -> None:  # type: ignore[no-untyped-def]
    """The dialog closed after its action (else: what it says instead)."""
    try:
        expect(dialog).to_be_hidden()
    except AssertionError:
        raise AssertionError(f"the dialog stayed open: {dialog.inner_text()!r}") from None


def shot(page: Page, path: Path, **kw: object) -> None:
    """A screenshot without the passing toast over it."""
    page.evaluate("document.getElementById('flash') && (document.getElementById('flash').textContent = '')")
    page.screenshot(path=str(path), **kw)  # type: ignore[arg-type]


def advance(page: Page, seconds: int) -> None:
    """Move the sandbox clock from the top bar's control."""
    before = page.locator("[data-testid=sandbox-clock]").inner_text()
    page.select_option("#advance-seconds", str(seconds))
    page.click("#sandbox-clock button:has-text('Advance')")
    expect(page.locator("[data-testid=sandbox-clock]")).not_to_have_text(before)


def test_the_whole_journey(context, live_server, alice, shots: Path) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        url = live_server.url
        sign_in_page(page, url, alice.email, alice.password)
        expect(page.locator(".topbar")).to_contain_text("Alice's team")
        expect(page.locator(".topbar .role-badge")).to_have_text("owner")
        expect(page.locator(".sandbox-badge")).to_have_text("Sandbox")

        # An agent to assign the number to, made on the Agents page.
        page.click("nav >> text=Agents")
        page.fill("#a-name", "Ava")
        page.fill("#a-dest", "sip:ava@agents.example.com")
        page.click("button:has-text('Create agent')")
        expect(page.locator("table.agents")).to_contain_text("sip:ava@agents.example.com")

        # Add a Number: search by a vanity pattern, pick, confirm the monthly cost, buy.
        page.click("nav >> text=Phone Numbers")
        page.click("[data-testid=add-number]")
        dialog = page.locator("#dlg")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("Letters and * work")
        page.fill("#s-contains", "CALL")
        page.click("#dlg button:has-text('Search')")
        first = page.locator("#dlg .result").first
        expect(first).to_be_visible()
        expect(first).to_contain_text("/month")
        e164 = first.locator(".e164").inner_text()
        assert "2255" in e164
        shot(page, shots / "add-number.png")
        first.locator("[data-select]").click()
        cost = page.locator("[data-testid=monthly-cost]")
        expect(cost).to_contain_text(re.compile(r"costs \$\d+\.\d\d per month"))
        page.click("[data-testid=buy]")
        closed(dialog)

        number = alice.get("/v1/numbers", params={"q": e164[2:]}).json()["data"][0]
        nid = number["id"]
        row = page.locator(f"#num-{nid}")
        expect(row).to_have_attribute("data-status", "pending")
        expect(row).to_contain_text("Provisioning for")

        # The row turns active without a reload once provisioned (the clock moves).
        page.evaluate("window.__sameDocument = 'yes'")
        advance(page, 3600)
        expect(row).to_have_attribute("data-status", "active", timeout=15_000)
        expect(row.locator(".badge")).to_have_text("active")
        assert page.evaluate("window.__sameDocument") == "yes"
        expect(page.locator("[data-testid=count-active]")).to_have_text("1")

        # Assign to Ava.
        row.locator("[data-action=assign]").click()
        expect(dialog).to_be_visible()
        dialog.locator("label.choice", has_text="Ava").locator("input").check()
        dialog.locator("button:has-text('Save assignment')").click()
        closed(dialog)
        expect(row).to_contain_text("Ava")
        shot(page, shots / "inventory.png")

        # Release: the button is enabled by the acknowledgement.
        row.locator("[data-action=release]").click()
        expect(dialog).to_be_visible()
        submit = page.locator("#r-submit")
        expect(submit).to_be_disabled()
        expect(page.locator("[data-testid=consequence]")).to_contain_text("24-hour cooldown")
        expect(page.locator("[data-testid=consequence]")).to_contain_text("10-day reclaim window")
        page.select_option("#r-reason", "cost_reduction")
        page.fill("#r-notes", "Moving the line to the shared pool.")
        page.check("input[name=acknowledge]")
        expect(submit).to_be_enabled()
        shot(page, shots / "release-dialog.png")
        submit.click()
        closed(dialog)
        expect(row).to_have_attribute("data-status", "released")
        expect(row).not_to_contain_text("Ava")

        # The chevron expands the release details, checklist and countdowns.
        row.locator("[data-expand]").click()
        details = page.locator(f"#detail-{nid}")
        expect(details).to_be_visible()
        expect(details).to_contain_text("Moving the line to the shared pool.")
        expect(details.locator("[data-testid=cooldown-countdown]")).to_contain_text(
            re.compile(r"Reactivation possible in 2[34] h"))
        expect(details.locator("[data-testid=reclaim-countdown]")).to_contain_text(
            re.compile(r"Reclaim window closes in (9|10) days"))
        expect(details.locator(".checks li.no")).to_have_count(1)
        expect(details.locator(".checks li.no")).to_contain_text("cooldown ends")
        shot(page, shots / "released-row-expanded.png")

        # Reactivation during the cooldown is refused, with the time.
        row.locator("tr.main [data-action=reactivate]").click()
        expect(dialog).to_be_visible()
        expect(dialog.locator("input[name=restore_assignment]")).to_be_checked()
        dialog.locator("button[type=submit]").click()
        refusal = dialog.locator(".alert.bad")
        expect(refusal).to_contain_text("Reactivation refused")
        expect(refusal).to_contain_text(re.compile(r"Reactivation possible in 2[34] h"))
        page.keyboard.press("Escape")
        closed(dialog)
        assert alice.number(nid)["status"] == "released"

        # Past the cooldown: the countdown says so without a reload, and reactivation works.
        advance(page, 86400)
        expect(details.locator("[data-testid=cooldown-countdown]")).to_contain_text(
            "reactivation possible now", timeout=15_000)
        expect(details.locator(".checks li.no")).to_have_count(0)
        row.locator("tr.main [data-action=reactivate]").click()
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("Restore its assignment to Ava")
        dialog.locator("button[type=submit]").click()
        closed(dialog)
        expect(row).to_have_attribute("data-status", "active")
        expect(row).to_contain_text("Ava")
        assert page.evaluate("window.__sameDocument") == "yes"
        after = alice.number(nid)
        assert after["status"] == "active" and after["assignment"]["name"] == "Ava"

        # The number page: details, history, audit trail.
        page.click(f"#num-{nid} a.nat")
        expect(page.locator("h1")).to_contain_text(number["national_format"])
        history = page.locator("section[aria-labelledby=history-h] tbody tr")
        expect(history).to_have_count(4)
        expect(page.locator("section[aria-labelledby=audit-h]")).to_contain_text("number.reactivate")
        shot(page, shots / "number-page.png", full_page=True)

        page.goto(f"{url}/agents")
        shot(page, shots / "agents.png")

        # A phone's width: the table becomes a list of cards.
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(url + "/")
        expect(page.locator(f"#num-{nid}")).to_be_visible()
        assert page.locator("table.numbers thead").is_hidden()
        shot(page, shots / "inventory-phone.png", full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the page scrolls sideways"
        assert errors == []
    finally:
        page.close()
    if shots.name == "sqlite" and os.environ.get("NUMBERDESK_UPDATE_SCREENSHOTS") == "1":
        # Refresh the committed copies (on request only: a test run leaves the tree clean).
        for name in ("inventory", "add-number", "release-dialog", "released-row-expanded", "number-page",
                     "agents", "inventory-phone"):
            shutil.copyfile(shots / f"{name}.png", DOCS_SHOTS / f"{name}.png")
