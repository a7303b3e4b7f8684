"""The service started the way ``make run`` starts it, in a fresh data directory."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import httpx

from tests.conftest import free_port, settings_env


def _run(env: dict[str, str], *args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "numberdesk", *args], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_make_run_prints_working_credentials(settings, backend, tmp_path):
    data = tmp_path / "fresh-data"
    port = free_port()
    env = settings_env(settings)
    env["NUMBERDESK_DATA_DIR"] = str(data)
    env["NUMBERDESK_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    # As make run: the default sandbox inventory, and on SQLite the file in the data directory.
    for name in ("NUMBERDESK_SANDBOX_INVENTORY_SIZE", "NUMBERDESK_SANDBOX_SEED"):
        del env[name]
    if backend["kind"] == "sqlite":
        del env["NUMBERDESK_DATABASE_URL"]
    assert "up to date" in _run(env, "db", "upgrade")
    printed = _run(env, "demo")
    # Printed once per line, whatever the terminal width.
    sign_in = re.search(r"sign in as (\S+@\S+) / (\S+)\s*$", printed, re.M)
    api_key = re.search(r"API key:\s+(nd_\S+)\s*$", printed, re.M)
    assert sign_in and api_key, printed
    email, password, key = sign_in.group(1), sign_in.group(2), api_key.group(1)
    assert f"curl -H 'Authorization: Bearer {key}' http://127.0.0.1:{port}/v1/numbers" in printed
    # Running demo again prints the same credentials (make run twice).
    assert _run(env, "demo") == printed
    if backend["kind"] == "sqlite":
        assert (data / "numberdesk.sqlite3").exists()

    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "numberdesk", "serve", "--host", "127.0.0.1",
                                 "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)

        h = {"Authorization": f"Bearer {key}"}
        account = httpx.get(f"{base}/v1/account", headers=h, timeout=30)
        assert account.status_code == 200, account.text
        assert account.json()["name"] == "Demo Team"
        assert httpx.get(f"{base}/v1/numbers", headers=h, timeout=30).status_code == 200

        with httpx.Client(base_url=base, timeout=30) as browser:
            form = browser.get("/sign-in")
            assert form.status_code == 200
            csrf = re.search(r'name="csrf_token"\s+value="([^"]+)"', form.text)
            assert csrf, form.text[:2000]
            wrong = browser.post("/sign-in", data={"email": email, "password": password + "x",
                                                   "csrf_token": csrf.group(1), "next": "/"})
            assert wrong.status_code == 401
            csrf = re.search(r'name="csrf_token"\s+value="([^"]+)"', wrong.text)
            r = browser.post("/sign-in", data={"email": email, "password": password,
                                               "csrf_token": csrf.group(1), "next": "/"})
            assert r.status_code == 303 and r.headers["location"] == "/"
            home = browser.get("/")
            assert home.status_code == 200 and "sign-in" not in str(home.url)
            assert "Demo Team" in home.text or email in home.text
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
