"""A real headless Chromium (Debian's /usr/bin/chromium) for the dashboard tests.

The browser tests never skip: without Chromium they fail, so a machine that
cannot run them is noticed (``NUMBERDESK_REQUIRE_BROWSER=1`` states it explicitly).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("NUMBERDESK_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        required = os.environ.get("NUMBERDESK_REQUIRE_BROWSER") == "1"
        pytest.fail(f"Chromium is missing at {CHROMIUM}: the dashboard tests need a real browser"
                    + (" (NUMBERDESK_REQUIRE_BROWSER=1)" if required else " (install the chromium package)"))
    from playwright.sync_api import expect, sync_playwright

    # Generous waits: the machine may be busy; nothing here asserts speed.
    expect.set_options(timeout=20_000)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                               args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def context(browser):  # type: ignore[no-untyped-def]
    """A fresh browser profile at 1280 px (cookies of its own)."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 860})
    ctx.set_default_timeout(60_000)
    yield ctx
    ctx.close()


@pytest.fixture
def shots(backend: dict[str, str]) -> Path:
    """Where screenshots go (one folder per backend; the SQLite ones are the reference)."""
    path = SCREENSHOTS / backend["kind"]
    path.mkdir(parents=True, exist_ok=True)
    return path
