"""Dashboard sessions: the signing key kept in the data directory, forged cookies refused."""

from __future__ import annotations

import stat
from pathlib import Path

from numberdesk.auth import sessions
from numberdesk.config import Settings


def test_secret_key_is_generated_once_and_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", secret_key=None)
    key = sessions.secret_key(settings)
    path = tmp_path / "data" / "secret_key"
    assert len(key) >= 40 and path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sessions.secret_key(Settings(data_dir=tmp_path / "data", secret_key=None)) == key
    assert sessions.secret_key(Settings(data_dir=tmp_path / "data", secret_key="configured")) == "configured"


def test_cookies_round_trip_and_forgeries_fail(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="one")
    data = sessions.new_session("usr_1")
    cookie = sessions.dump(settings, data)
    assert sessions.load(settings, cookie) == data
    assert sessions.load(Settings(data_dir=tmp_path, secret_key="two"), cookie) is None
    assert sessions.load(settings, cookie[:-2] + "xx") is None
    assert sessions.load(settings, None) is None
    assert sessions.csrf_ok(data, data.csrf)
    assert not sessions.csrf_ok(data, "nope") and not sessions.csrf_ok(data, None)
    assert not sessions.csrf_ok(None, data.csrf)
    assert sessions.new_session("usr_1").csrf != data.csrf


def test_sign_out_ends_copied_cookies_too(app, alice) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from tests.dashboard.helpers import sign_in

    with TestClient(app) as browser, TestClient(app) as thief:
        csrf = sign_in(browser, alice.email, alice.password)
        thief.cookies.set(sessions.COOKIE, browser.cookies.get(sessions.COOKIE))
        assert thief.get("/", follow_redirects=False).status_code == 200      # the copy works
        r = browser.post("/sign-out", data={"csrf_token": csrf}, follow_redirects=False)
        assert r.status_code == 303
        # The copy no longer works, and the sign-in page does not bounce it back to "/".
        r = thief.get("/", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/sign-in")
        assert thief.get("/sign-in", follow_redirects=False).status_code == 200
        # Signing in again works as before.
        sign_in(browser, alice.email, alice.password)
        assert browser.get("/", follow_redirects=False).status_code == 200


def test_cookie_without_epoch_is_refused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="one")
    from itsdangerous import URLSafeTimedSerializer

    legacy = URLSafeTimedSerializer("one", salt=sessions._SALT).dumps({"c": "x", "u": "usr_1"})
    assert sessions.load(settings, legacy).epoch == -1  # never equal to a user's epoch
