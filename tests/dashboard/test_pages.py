"""The dashboard over HTTP (in-process): sign-in, CSRF, roles, filters, paging, every page."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.dashboard.helpers import add_user, bulk_numbers, csrf_from, sign_in


def test_pages_need_a_session(client: TestClient) -> None:
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/sign-in"
    r = client.get("/numbers/num_x", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/sign-in?next=%2Fnumbers%2Fnum_x")
    # HTMX requests get a full-page redirect instead of a fragment.
    r = client.get("/numbers/summary", headers={"HX-Request": "true"}, follow_redirects=False)
    assert r.status_code == 401 and r.headers["hx-redirect"].startswith("/sign-in")


def test_sign_in_and_out(client: TestClient, alice) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/sign-in")
    token = csrf_from(page.text)
    bad = client.post("/sign-in", data={"email": alice.email, "password": "wrong", "csrf_token": token})
    assert bad.status_code == 401
    assert "do not match" in bad.text
    no_csrf = client.post("/sign-in", data={"email": alice.email, "password": alice.password})
    assert no_csrf.status_code == 403
    csrf = sign_in(client, alice.email, alice.password)
    home = client.get("/")
    assert "Alice&#39;s team" in home.text and alice.email in home.text and ">owner<" in home.text
    assert "Sandbox" in home.text and 'action="/sandbox/advance"' in home.text
    # The token seen before signing in is not the session's token after.
    assert csrf != token
    assert client.post("/sign-out", data={}, follow_redirects=False).status_code == 403
    out = client.post("/sign-out", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/sign-in"
    assert client.get("/", follow_redirects=False).status_code == 303


def test_open_redirect_is_refused(client: TestClient, alice) -> None:  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/sign-in").text)
    r = client.post("/sign-in", data={"email": alice.email, "password": alice.password, "csrf_token": token,
                                      "next": "//evil.example/"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_every_post_needs_the_csrf_token(client: TestClient, alice) -> None:  # type: ignore[no-untyped-def]
    n = alice.buy()
    csrf = sign_in(client, alice.email, alice.password)
    body = {"reason": "no_longer_needed", "acknowledge": "yes"}
    for data, headers in ((body, {}), ({**body, "csrf_token": "forged"}, {}),
                          (body, {"X-CSRF-Token": "forged"})):
        r = client.post(f"/numbers/{n['id']}/release", data=data, headers=headers, follow_redirects=False)
        assert r.status_code == 403, r.text
    assert alice.number(n["id"])["status"] == "pending"
    # The header form (HTMX) is accepted like the field.
    alice.advance(120)
    r = client.post(f"/numbers/{n['id']}/release", data=body, headers={"X-CSRF-Token": csrf, "HX-Request": "true"})
    assert r.status_code == 200, r.text
    assert alice.number(n["id"])["status"] == "released"


def test_viewer_sees_no_actions_and_is_refused(app, client: TestClient, alice) -> None:  # type: ignore[no-untyped-def]
    n = alice.buy()
    agent = alice.agent()
    password = add_user(app, alice.account_id, "vera@acme.example", "viewer")
    with TestClient(app) as viewer:
        csrf = sign_in(viewer, "vera@acme.example", password)
        home = viewer.get("/").text
        assert n["phone_number"] in home and ">viewer<" in home
        assert 'data-action=' not in home and "Add a Number" not in home
        assert 'action="/sandbox/advance"' not in home
        assert "/billing" not in home and "/audit" not in home
        for path, data in ((f"/numbers/{n['id']}/release", {"reason": "no_longer_needed", "acknowledge": "yes"}),
                           (f"/numbers/{n['id']}/assign", {"agent_id": agent["id"]}),
                           ("/numbers", {"phone_number": alice.search(limit=1)[0]["phone_number"]}),
                           ("/agents", {"name": "Eve", "kind": "ai_agent", "destination": "sip:eve@x.example"})):
            r = viewer.post(path, data={**data, "csrf_token": csrf}, follow_redirects=False)
            assert r.status_code == 403, (path, r.status_code, r.text[:300])
            assert "viewer role may not do this" in r.text
        r = viewer.post("/sandbox/advance", data={"seconds": "3600", "csrf_token": csrf})
        assert r.status_code == 403
        assert viewer.get("/audit").status_code == 403
    after = alice.number(n["id"])
    assert after["status"] == "pending" and after["assignment"] is None
    assert len(alice.get("/v1/agents").json()["data"]) == 1


def test_inventory_filters_chips_sort_and_paging(app, client: TestClient, alice) -> None:  # type: ignore[no-untyped-def]
    bulk_numbers(app, alice.account_id, 60, department="sales")
    bulk_numbers(app, alice.account_id, 3, start=60, status="inactive")
    sign_in(client, alice.email, alice.password)
    home = client.get("/").text
    assert 'data-testid="count-active">60<' in home and 'data-testid="count-inactive">3<' in home
    assert "$72.45" in home  # 63 billed numbers x $1.15
    first = re.findall(r'<tbody id="num-(num_[^"]+)"', home)
    assert len(first) == 50
    nxt = re.search(r'href="/(\?[^"]*cursor=[^"]+)" rel="next"', home)
    assert nxt
    page2 = client.get("/" + nxt.group(1).replace("&amp;", "&")).text
    second = re.findall(r'<tbody id="num-(num_[^"]+)"', page2)
    assert len(second) == 13 and not set(first) & set(second)
    filtered = client.get("/?status=inactive&department=&q=").text
    assert len(re.findall(r'<tbody id="num-num_', filtered)) == 3
    assert "Status: <strong>inactive</strong>" in filtered
    dept = client.get("/", params={"department": "sales", "q": "Line 0001", "sort": "friendly_name"}).text
    names = re.findall(r'<span class="fname">([^<]+)</span>', dept)
    assert names == sorted(names) and "Line 00015" in names and "Line 00025" not in names
    assert "Department: <strong>sales</strong>" in dept and "Search: <strong>Line 0001</strong>" in dept
    # A chip's link removes exactly its filter.
    assert 'href="/?department=sales&amp;sort=friendly_name"' in dept
    bad = client.get("/?status=bogus&sort=nope")
    assert bad.status_code == 200 and "is not one of" in bad.text and "is not known" in bad.text
    # An HTMX filter change gets only the table.
    frag = client.get("/?status=inactive", headers={"HX-Request": "true", "HX-Target": "inventory"}).text
    assert frag.lstrip().startswith("<section id=\"inventory\"") and "<html" not in frag


def test_every_page_renders(client: TestClient, alice) -> None:  # type: ignore[no-untyped-def]
    n = alice.buy()
    alice.agent()
    sign_in(client, alice.email, alice.password)
    for path in ("/", "/agents", "/audit", "/settings", f"/numbers/{n['id']}", "/numbers/add",
                 "/numbers/add?contains=5&country=US", f"/numbers/{n['id']}/assign", f"/numbers/{n['id']}/release",
                 f"/numbers/{n['id']}/reactivate", f"/numbers/{n['id']}/release-details", "/numbers/summary",
                 f"/numbers/{n['id']}/row", "/static/vendor/htmx/htmx.min.js", "/static/app.css"):
        r = client.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:500])
        # Every form on every page carries the session's token.
        assert 'name="csrf_token" value=""' not in r.text, path
    page = client.get(f"/numbers/{n['id']}").text
    assert "Still provisioning" in page and "Not assigned" in page and "number.purchase" in page
    assert client.get("/numbers/num_nope").status_code == 404


def test_another_accounts_number_does_not_exist(client: TestClient, alice, bob) -> None:  # type: ignore[no-untyped-def]
    theirs = bob.buy()
    csrf = sign_in(client, alice.email, alice.password)
    assert client.get(f"/numbers/{theirs['id']}").status_code == 404
    r = client.post(f"/numbers/{theirs['id']}/release",
                    data={"reason": "no_longer_needed", "acknowledge": "yes", "csrf_token": csrf})
    assert r.status_code == 404
    assert bob.number(theirs["id"])["status"] == "pending"


def test_settings_keys_and_people(client: TestClient, alice) -> None:  # type: ignore[no-untyped-def]
    csrf = sign_in(client, alice.email, alice.password)
    r = client.post("/settings", data={"timezone": "Mars/Olympus", "naming_template": "", "fallback_destination": "",
                                       "csrf_token": csrf})
    assert r.status_code == 422 and "is not an IANA time zone" in r.text
    r = client.post("/settings", data={"timezone": "Europe/London", "naming_template": "{department}-{seq}",
                                       "fallback_destination": "sip:desk@acme.example", "csrf_token": csrf})
    assert r.status_code == 200 and "Settings saved" in r.text
    account = alice.get("/v1/account").json()
    assert account["timezone"] == "Europe/London"
    r = client.post("/settings/keys", data={"name": "CI", "role": "member", "csrf_token": csrf})
    assert r.status_code == 201
    secret = re.search(r'data-testid="new-key">([^<]+)<', r.text).group(1)
    assert client.get("/v1/numbers", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    key_id = re.search(r'action="/settings/keys/(key_[^/]+)/revoke" data-confirm="Revoke the key “CI”', r.text).group(1)
    client.post(f"/settings/keys/{key_id}/revoke", data={"csrf_token": csrf})
    assert client.get("/v1/numbers", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    r = client.post("/settings/users", data={"email": "mo@acme.example", "role": "member", "csrf_token": csrf})
    assert r.status_code == 201 and "mo@acme.example can now sign in as member" in r.text
