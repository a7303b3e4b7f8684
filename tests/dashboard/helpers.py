"""Shared steps of the dashboard tests: sign-in, CSRF tokens, people, bulk numbers."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from fastapi.testclient import TestClient

from numberdesk.accounts import service as accounts
from numberdesk.auth.context import system_ctx
from numberdesk.numbers.models import PhoneNumber

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    m = CSRF.search(html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def sign_in(client: TestClient, email: str, password: str) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    page = client.get("/sign-in")
    assert page.status_code == 200, page.text
    r = client.post("/sign-in", data={"email": email, "password": password, "csrf_token": csrf_from(page.text),
                                      "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    home = client.get("/")
    assert home.status_code == 200, home.text
    return csrf_from(home.text)


def add_user(app: Any, account_id: str, email: str, role: str) -> str:
    """A person with a sign-in in this account (through the service, as the owner would)."""
    st = app.state.nd
    with st.db.session() as s:
        ctx = system_ctx(s, st.settings, account_id, st.clock.now())
        _, password = accounts.create_user(ctx, email, role)
    return password


def bulk_numbers(app: Any, account_id: str, count: int, *, start: int = 0, status: str = "active",
                 department: str | None = None) -> None:
    """Insert ``count`` numbers straight into the table (test data, not a purchase)."""
    st = app.state.nd
    now = st.clock.now()
    rows = []
    for i in range(start, start + count):
        rows.append({
            "id": f"num_bulk{account_id[-6:]}{i:06d}", "account_id": account_id,
            "phone_number": f"+1415{(5000000 + i) % 10_000_000:07d}", "country": "US", "type": "local",
            "cap_voice": True, "cap_sms": True, "cap_mms": False, "locality": "San Francisco", "region": "CA",
            "friendly_name": f"Line {i:05d}", "department": department, "status": status,
            "monthly_price_minor": 115, "setup_price_minor": 0, "currency": "USD", "provider": "sandbox",
            "purchased_at": now - dt.timedelta(minutes=i), "created_at": now, "updated_at": now, "version": 1,
            "activated_at": now if status == "active" else None,
        })
    with st.db.session() as s:
        s.execute(PhoneNumber.__table__.insert(), rows)
