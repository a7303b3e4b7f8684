"""The Analytics page and the number page's calls panel: charts drawn by Chart.js in a real
Chromium, the same figures without JavaScript, CSV exports, and the Test call."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.calls.helpers import call, ingest
from tests.dashboard.helpers import add_user, csrf_from, sign_in
from tests.routing.helpers import active_number, sandbox_now

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
NY = zoneinfo.ZoneInfo("America/New_York")


def _seed(alice: Any) -> dict[str, Any]:
    """Two numbers, an agent, and calls over the last three local days: 14:00 is the busy hour."""
    assert alice.patch("/v1/account", {"timezone": "America/New_York"}).status_code == 200
    agent = alice.agent(name="Ava", destination="sip:ava@agents.example.com")
    a = active_number(alice, agent_id=agent["id"], friendly_name="Front desk")
    b = active_number(alice, friendly_name="Sales line")
    today = sandbox_now(alice).astimezone(NY).date()
    calls = []
    for days_ago, hour, minute, status, number in (
            (2, 9, 5, "completed", a), (2, 14, 10, "completed", a), (2, 14, 40, "no_answer", a),
            (1, 14, 20, "completed", a), (1, 14, 50, "busy", b), (1, 16, 0, "completed", b),
            (0, 0, 30, "completed", a)):
        day = today - dt.timedelta(days=days_ago)
        start = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=NY)
        calls.append(call(number["phone_number"], start.astimezone(dt.UTC), status, talk=120))
    ingest(alice, calls)
    return {"agent": agent, "a": a, "b": b, "today": today}


def test_pages_without_javascript(app, client, alice) -> None:  # type: ignore[no-untyped-def]
    seed = _seed(alice)
    sign_in(client, alice.email, alice.password)
    html = client.get("/analytics", params={"preset": "7d"}).text
    assert re.search(r'data-testid="total-calls">7<', html)
    assert re.search(r'data-testid="missed-calls">2 ', html)
    assert 'data-testid="busy-hour">14:00\u201315:00<' in html                  # 14:00 to 15:00
    assert 'data-chart="volume"' in html and 'data-chart="hours"' in html and 'data-chart="missed"' in html
    assert "Front desk" in html and "Sales line" in html                          # by number
    series = html.split('data-testid="series"')[1]
    assert series.count("<tr>") == 1 + 7                                          # header + 7 local days

    # Scoped to one number, and the CSV exports of the same period.
    html = client.get("/analytics", params={"preset": "7d", "number_id": seed["b"]["id"]}).text
    assert re.search(r'data-testid="total-calls">2<', html) and "Sales line" in html
    first = (seed["today"] - dt.timedelta(days=6)).isoformat()
    to = (seed["today"] + dt.timedelta(days=1)).isoformat()
    r = client.get("/analytics.csv", params={"from": first, "to": to, "granularity": "day"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 7 and sum(int(x["calls"]) for x in rows) == 7
    r = client.get("/analytics/calls.csv", params={"from": first, "to": to, "number_id": seed["a"]["id"]})
    assert sorted(x["status"] for x in csv.DictReader(io.StringIO(r.text))) == ["completed"] * 4 + ["no_answer"]

    # The number page's panel and its test call, as pages of their own.
    n = seed["a"]["id"]
    page = client.get(f"/numbers/{n}").text
    assert f'hx-get="/analytics/numbers/{n}"' in page and 'data-action="test-call"' in page
    panel = client.get(f"/analytics/numbers/{n}").text
    assert re.search(r'data-testid="number-calls">5<', panel)
    r = client.post(f"/analytics/numbers/{n}/test-call", data={"from": "(415) 555-0142", "csrf_token": csrf_from(page)})
    assert r.status_code == 200 and 'data-route="agent"' in r.text and "sip:ava@agents.example.com" in r.text
    assert "&lt;Dial&gt;&lt;Sip&gt;" in r.text                                      # the TwiML, shown as text
    assert client.post(f"/analytics/numbers/{n}/test-call", data={}).status_code == 403  # no CSRF token
    # Bob's numbers are not Alice's to look at.
    assert client.get("/analytics", params={"number_id": "num_nope"}).status_code == 404


def test_viewer_sees_charts_but_cannot_test_call(app, client, alice) -> None:  # type: ignore[no-untyped-def]
    seed = _seed(alice)
    password = add_user(app, alice.account_id, "vera@acme.example", "viewer")
    sign_in(client, "vera@acme.example", password)
    n = seed["a"]["id"]
    page = client.get(f"/numbers/{n}").text
    assert 'data-action="test-call"' not in page
    r = client.post(f"/analytics/numbers/{n}/test-call", data={"csrf_token": csrf_from(page)})
    assert r.status_code == 422 and "may not do this" in r.text
    assert re.search(r'data-testid="total-calls">7<', client.get("/analytics", params={"preset": "7d"}).text)


@pytest.mark.browser
def test_charts_render_in_a_browser(page: Page, live_server, alice, backend) -> None:  # type: ignore[no-untyped-def]
    seed = _seed(alice)
    url = live_server.url
    page.goto(f"{url}/sign-in")
    page.fill("#email", alice.email)
    page.fill("#password", alice.password)
    page.click("button:has-text('Sign in')")
    expect(page.locator("h1")).to_have_text("Phone Numbers")

    page.click("nav.sidenav a:has-text('Analytics')")
    expect(page.locator("h1")).to_have_text("Analytics")
    page.click("a.btn:has-text('Last 7 days')")
    expect(page.locator("[data-testid=total-calls]")).to_have_text("7")
    for chart in ("volume", "hours", "missed"):
        expect(page.locator(f"canvas[data-chart={chart}]")).to_be_visible()
    drawn = page.evaluate("""() => {
        const get = (id) => Chart.getChart(document.getElementById(id));
        const sum = (a) => a.reduce((x, y) => x + (y || 0), 0);
        const vol = get("chart-volume"), hours = get("chart-hours"), missed = get("chart-missed");
        return {labels: vol.data.labels.length, answered: sum(vol.data.datasets[0].data),
                missed: sum(vol.data.datasets[1].data), hours: hours.data.datasets[0].data,
                busy: hours.data.datasets[0].backgroundColor[14], other: hours.data.datasets[0].backgroundColor[9],
                rates: missed.data.datasets[0].data.filter((v) => v !== null).length,
                width: vol.width};
    }""")
    assert drawn["labels"] == 7 and drawn["answered"] == 5 and drawn["missed"] == 2
    assert drawn["hours"][14] == 4 and drawn["hours"][9] == 1 and sum(drawn["hours"]) == 7
    assert drawn["busy"] != drawn["other"]                       # the busy hour is marked
    assert drawn["rates"] == 3 and drawn["width"] > 0            # three days had calls
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"analytics-{backend['kind']}.png"), full_page=True)

    # The period picker: a custom range of one day, by hour.
    page.fill("#a-from", seed["today"].isoformat())
    page.fill("#a-through", seed["today"].isoformat())
    page.select_option("#a-gran", "hour")
    page.click("button:has-text('Show')")
    expect(page.locator("[data-testid=total-calls]")).to_have_text("1")
    assert page.evaluate("() => Chart.getChart(document.getElementById('chart-volume')).data.labels.length") in (23, 24, 25)

    # The number page: its charts load with the page, and the test call shows the decision.
    n = seed["a"]["id"]
    page.goto(f"{url}/numbers/{n}")
    panel = page.locator("[data-testid=calls-panel]")
    expect(panel.locator("[data-testid=number-calls]")).to_have_text("5")
    canvas = panel.locator("canvas[data-chart=volume]")
    expect(canvas).to_be_visible()
    total = page.evaluate(f"""() => Chart.getChart(document.getElementById("number-volume-{n}"))
        .data.datasets.reduce((s, d) => s + d.data.reduce((x, y) => x + y, 0), 0)""")
    assert total == 5
    panel.locator("button[data-action=test-call]").click()
    result = panel.locator("[data-testid=test-call-result]")
    expect(result).to_have_attribute("data-route", "agent")
    expect(result).to_contain_text("sip:ava@agents.example.com")
    expect(result).to_contain_text("Ava")
    page.screenshot(path=str(SHOTS / f"number-calls-{backend['kind']}.png"), full_page=True)
