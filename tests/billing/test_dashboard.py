"""The Billing page (owners) and the number page's Troubleshoot panel."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from numberdesk.billing import ledger
from numberdesk.billing.service import set_account_status
from tests.dashboard.helpers import add_user, sign_in

from .helpers import activate, advance_to, clock_now, next_cycle_start, price

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def test_owner_sees_charges_projection_and_departments(app, client, alice, bob) -> None:  # type: ignore[no-untyped-def]
    advance_to(alice, next_cycle_start(alice) + dt.timedelta(days=1))     # well inside one cycle
    a = activate(alice, department="sales")
    b = activate(alice, department="support")
    activate(bob)
    pending = alice.buy()
    sign_in(client, alice.email, alice.password)
    html = client.get("/billing").text
    cycle = ledger.cycle_of(clock_now(alice))
    label = ledger.cycle_start(cycle).strftime("%B %Y")
    assert f"Charges for {label}" in html
    for n in (a, b):
        assert n["id"] in html and n["phone_number"] in html
    assert pending["id"] not in html.split('data-testid="charges"')[1]   # pending: not charged
    total = price(a) + price(b)
    assert re.search(rf'data-testid="cycle-total">\${total:.2f}<', html)
    projected = total + price(pending)
    assert re.search(rf'data-testid="projected">\s*\${projected:.2f}', html)
    assert "sales" in html and "support" in html
    assert "past due" not in html

    r = client.get("/billing/charges.csv", params={"cycle": cycle})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert sorted(x["number_id"] for x in rows) == sorted([a["id"], b["id"]])     # not Bob's
    assert sum(Decimal(x["amount"]) for x in rows) == total

    # Another month: empty, and says so; a bad month is explained, not an error page.
    nxt = ledger.next_cycle(cycle)
    assert "No charges for " + ledger.cycle_start(nxt).strftime("%B %Y") in client.get(
        "/billing", params={"cycle": nxt}).text
    bad = client.get("/billing", params={"cycle": "2026-13"})
    assert bad.status_code == 200 and "is not a month such as" in bad.text


def test_past_due_banner_says_what_to_do(app, client, alice) -> None:  # type: ignore[no-untyped-def]
    n = activate(alice)
    activate(alice)
    set_account_status(app.state.nd, alice.account_id, "past_due")
    sign_in(client, alice.email, alice.password)
    html = client.get("/billing").text
    assert 'data-testid="past-due"' in html
    assert "2 numbers are inactive because of it" in html
    assert "Pay the outstanding balance" in html
    page = client.get(f"/numbers/{n['id']}").text
    assert "inactive · billing" in page


def test_billing_is_for_owners_only(app, client, alice) -> None:  # type: ignore[no-untyped-def]
    password = add_user(app, alice.account_id, "ada@acme.example", "admin")
    sign_in(client, "ada@acme.example", password)
    home = client.get("/").text
    assert 'href="/billing"' not in home                       # not in the navigation
    r = client.get("/billing")
    assert r.status_code == 403 and "may not do this" in r.text
    assert client.get("/billing/charges.csv").status_code == 403


def test_troubleshoot_panel_without_javascript(app, client, alice) -> None:  # type: ignore[no-untyped-def]
    n = alice.buy()
    sign_in(client, alice.email, alice.password)
    page = client.get(f"/numbers/{n['id']}").text
    assert f'href="/numbers/{n["id"]}/troubleshoot"' in page     # the panel's link works without JS
    r = client.get(f"/numbers/{n['id']}/troubleshoot")
    assert r.status_code == 200
    assert f"Troubleshoot {n['national_format']}" in r.text
    assert 'data-code="provisioning"' in r.text and "Still pending" in r.text
    assert "What to do:</strong> Wait" in r.text
    other = client.get("/numbers/num_doesnotexist/troubleshoot")
    assert other.status_code == 404


@pytest.mark.browser
def test_troubleshoot_panel_and_billing_page_in_a_browser(page: Page, live_server, alice, backend) -> None:  # type: ignore[no-untyped-def]
    advance_to(alice, next_cycle_start(alice) + dt.timedelta(days=1))
    agent = alice.agent(name="Ava")
    n = activate(alice, agent_id=agent["id"], department="sales")
    r = alice.client.put(f"/v1/sandbox/numbers/{n['id']}/configuration", json={"broken": True},
                         headers=alice.h())
    assert r.status_code == 200
    url = live_server.url
    page.goto(f"{url}/sign-in")
    page.fill("#email", alice.email)
    page.fill("#password", alice.password)
    page.click("button:has-text('Sign in')")
    expect(page.locator("h1")).to_have_text("Phone Numbers")

    page.goto(f"{url}/numbers/{n['id']}")
    panel = page.locator("[data-testid=troubleshoot]")
    expect(panel).to_contain_text("checks need attention")           # loaded by HTMX with the page
    inactive = panel.locator("li[data-code=inactive]")
    expect(inactive).to_have_class(re.compile(r"\bno\b"))
    expect(inactive).to_contain_text("the carrier reports a configuration problem")
    expect(inactive).to_contain_text("What to do:")
    expect(panel.locator("li[data-code=assignment]")).to_have_class(re.compile(r"\bok\b"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    panel.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"troubleshoot-{backend['kind']}.png"), full_page=True)

    page.click("nav.sidenav a:has-text('Billing')")
    expect(page.locator("h1")).to_have_text("Billing")
    expect(page.locator("[data-testid=charges]")).to_contain_text(n["phone_number"])
    expect(page.locator("[data-testid=cycle-total]")).to_have_text(f"${price(n):.2f}")
    expect(page.locator("[data-testid=by-department]")).to_contain_text("sales")
    page.screenshot(path=str(SHOTS / f"billing-{backend['kind']}.png"), full_page=True)
