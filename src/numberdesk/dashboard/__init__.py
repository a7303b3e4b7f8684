"""The web dashboard: Jinja2 + HTMX views over the same services as the API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

STATIC_DIR = Path(__file__).parent / "static"
TEMPLATE_DIR = Path(__file__).parent / "templates"


def mount_static(app: Any) -> None:
    """Serve the dashboard's vendored assets (HTMX, icons, charts, CSS) at ``/static``."""
    from fastapi.staticfiles import StaticFiles

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
