"""Test fixtures: real databases (SQLite and PostgreSQL), real servers, named personas.

Every test that touches the database runs once per backend. The schema is
migrated once per backend into a template; each test gets its own copy (a file
copy on SQLite, ``CREATE DATABASE … TEMPLATE`` on PostgreSQL), so tests never
see each other's rows and can commit freely.

PostgreSQL is required when ``CI`` is set or ``NUMBERDESK_REQUIRE_POSTGRES=1``;
elsewhere it is used when it answers on ``NUMBERDESK_TEST_PG`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from numberdesk.accounts.service import create_account
from numberdesk.app import create_app
from numberdesk.config import Settings
from numberdesk.migrate import upgrade

PG_URL = os.environ.get("NUMBERDESK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REQUIRE_PG = bool(os.environ.get("CI")) or os.environ.get("NUMBERDESK_REQUIRE_POSTGRES") == "1"
INVENTORY_SIZE = 6000


def _pg_available() -> bool:
    try:
        eng = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with eng.connect() as c:
            c.execute(text("select 1"))
        eng.dispose()
        return True
    except Exception:
        return False


def _backends() -> list[str]:
    wanted = os.environ.get("NUMBERDESK_TEST_BACKENDS", "sqlite,postgresql").split(",")
    out = []
    for b in wanted:
        b = b.strip()
        if b == "postgresql" and not REQUIRE_PG and not _pg_available():
            print("note: PostgreSQL is not reachable; running SQLite only", file=sys.stderr)
            continue
        out.append(b)
    return out


BACKENDS = _backends()


def _admin_engine():  # type: ignore[no-untyped-def]
    return create_engine(PG_URL, isolation_level="AUTOCOMMIT")


def _pg_url(name: str) -> str:
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def inventory_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("inventory")


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The backend, with a template database migrated once."""
    kind = request.param
    if kind == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.sqlite3"
        upgrade(f"sqlite:///{path}")
        yield {"kind": kind, "template": str(path)}
        return
    name = f"nd_tmpl_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        upgrade(_pg_url(name))
        yield {"kind": kind, "template": name}
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def db_url(backend: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for this test."""
    if backend["kind"] == "sqlite":
        path = tmp_path / "numberdesk.sqlite3"
        shutil.copyfile(backend["template"], path)
        yield f"sqlite:///{path}"
        return
    name = f"nd_test_{uuid.uuid4().hex[:16]}"
    admin = _admin_engine()
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{backend["template"]}"'))
    try:
        yield _pg_url(name)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_settings(db_url: str, data_dir: Path, cache: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url, "data_dir": data_dir, "provider": "sandbox",
        "sandbox_inventory_size": INVENTORY_SIZE, "sandbox_seed": 7,
        "sandbox_provisioning_seconds": 60, "public_url": "http://testserver",
        "secret_key": "test-secret-key",
    }
    values.update(overrides)
    settings = Settings(**values)
    (data_dir / "sandbox-cache").mkdir(parents=True, exist_ok=True)
    # Share one built inventory between tests (it is deterministic).
    for f in cache.glob("*"):
        target = data_dir / "sandbox-cache" / f.name
        if not target.exists():
            os.link(f, target) if hasattr(os, "link") else shutil.copy(f, target)
    return settings


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module to change settings (e.g. cooldown_hours)."""
    return {}


@pytest.fixture
def settings(db_url: str, tmp_path: Path, inventory_cache: Path, settings_overrides: dict[str, Any]) -> Settings:
    s = make_settings(db_url, tmp_path / "data", inventory_cache, **settings_overrides)
    yield s
    for f in (s.data_dir / "sandbox-cache").glob("*"):
        if not (inventory_cache / f.name).exists():
            shutil.copy(f, inventory_cache / f.name)


@pytest.fixture
def app(settings: Settings):  # type: ignore[no-untyped-def]
    return create_app(settings)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@dataclass
class Persona:
    """A named user of the product: an account, its owner key, and a client."""

    name: str
    account_id: str
    api_key: str
    email: str
    password: str
    client: TestClient
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def h(self, role: str = "owner") -> dict[str, str]:
        """Headers for a key of ``role`` in this account (created on first use)."""
        if role == "owner":
            return self.headers
        if role not in self.keys:
            r = self.client.post("/v1/api-keys", json={"name": f"{role} key", "role": role}, headers=self.headers)
            assert r.status_code == 201, r.text
            self.keys[role] = r.json()["api_key"]
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def get(self, path: str, role: str = "owner", **kw: Any) -> httpx.Response:
        return self.client.get(path, headers=self.h(role), **kw)

    def post(self, path: str, json: Any = None, role: str = "owner", **kw: Any) -> httpx.Response:
        headers = {**self.h(role), **kw.pop("headers", {})}
        return self.client.post(path, json=json if json is not None else {}, headers=headers, **kw)

    def patch(self, path: str, json: Any, role: str = "owner") -> httpx.Response:
        return self.client.patch(path, json=json, headers=self.h(role))

    def delete(self, path: str, role: str = "owner") -> httpx.Response:
        return self.client.delete(path, headers=self.h(role))

    # Shortcuts used across the suite.
    def search(self, **params: Any) -> list[dict[str, Any]]:
        r = self.get("/v1/available-numbers", params=params)
        assert r.status_code == 200, r.text
        return r.json()["data"]

    def buy(self, phone_number: str | None = None, **body: Any) -> dict[str, Any]:
        if phone_number is None:
            phone_number = self.search(limit=1, **body.pop("search", {}))[0]["phone_number"]
        r = self.post("/v1/numbers", {"phone_number": phone_number, **body})
        assert r.status_code == 201, r.text
        return r.json()

    def agent(self, name: str = "Ava", destination: str = "sip:ava@agents.example.com",
              kind: str = "ai_agent") -> dict[str, Any]:
        r = self.post("/v1/agents", {"name": name, "kind": kind, "destination": destination})
        assert r.status_code == 201, r.text
        return r.json()

    def advance(self, seconds: int) -> dict[str, Any]:
        r = self.post("/v1/sandbox/clock/advance", {"seconds": seconds})
        assert r.status_code == 200, r.text
        return r.json()

    def number(self, number_id: str) -> dict[str, Any]:
        r = self.get(f"/v1/numbers/{number_id}")
        assert r.status_code == 200, r.text
        return r.json()


def make_persona(app, client: TestClient, name: str, email: str, tz: str = "UTC") -> Persona:  # type: ignore[no-untyped-def]
    st = app.state.nd
    with st.db.session() as s:
        new = create_account(s, st.clock.now(), f"{name}'s team", email, timezone=tz)
        return Persona(name, new.account.id, new.api_key, email, new.password, client)


@pytest.fixture
def alice(app, client: TestClient) -> Persona:  # type: ignore[no-untyped-def]
    """Alice owns the Acme account."""
    return make_persona(app, client, "Alice", "alice@acme.example")


@pytest.fixture
def bob(app, client: TestClient) -> Persona:  # type: ignore[no-untyped-def]
    """Bob owns another account and must never see or touch Alice's."""
    return make_persona(app, client, "Bob", "bob@globex.example")


# -- a real server process ----------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def settings_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBERDESK_")}
    env.update({
        "NUMBERDESK_DATABASE_URL": settings.resolved_database_url,
        "NUMBERDESK_DATA_DIR": str(settings.data_dir),
        "NUMBERDESK_PROVIDER": settings.provider,
        "NUMBERDESK_SANDBOX_INVENTORY_SIZE": str(settings.sandbox_inventory_size),
        "NUMBERDESK_SANDBOX_SEED": str(settings.sandbox_seed),
        "NUMBERDESK_SANDBOX_PROVISIONING_SECONDS": str(settings.sandbox_provisioning_seconds),
        "NUMBERDESK_COOLDOWN_HOURS": str(settings.cooldown_hours),
        "NUMBERDESK_RECLAIM_DAYS": str(settings.reclaim_days),
        "NUMBERDESK_SECRET_KEY": settings.secret_key or "test-secret-key",
        "NUMBERDESK_TWILIO_AUTH_TOKEN": settings.twilio_auth_token,
    })
    return env


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


@pytest.fixture
def live_server(settings: Settings, tmp_path: Path) -> Iterator[LiveServer]:
    """numberdesk served by a real uvicorn process (as ``numberdesk serve`` does)."""
    port = free_port()
    env = settings_env(settings)
    env["NUMBERDESK_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "numberdesk", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError(f"server did not start: {log.read_text()[-3000:]}")
    try:
        yield LiveServer(url, proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


# -- a real browser -----------------------------------------------------------------
CHROMIUM = os.environ.get("NUMBERDESK_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium, driven by Playwright; one per test process.

    Browser tests never skip: without Chromium they fail, so a machine that cannot
    run them is noticed. (Playwright allows one sync session per thread, hence one
    shared fixture for every browser test.)
    """
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: the dashboard tests need a real browser "
                    "(install Debian's chromium package)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=20_000)  # generous waits on a busy machine; nothing here asserts speed
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                               args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser profile at 1280 px (cookies of its own)."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 860})
    ctx.set_default_timeout(60_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()
