"""Dashboard test helpers (the browser itself comes from tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture
def shots(backend: dict[str, str]) -> Path:
    """Where screenshots go (one folder per backend; the SQLite ones are the reference)."""
    path = SCREENSHOTS / backend["kind"]
    path.mkdir(parents=True, exist_ok=True)
    return path
