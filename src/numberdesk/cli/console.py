"""What every command shares: the consoles, failing with a message, printing JSON, the
server's runtime (server-side commands) and the API options (API-backed commands)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from numberdesk.cli.client import ApiError
from numberdesk.config import get_settings
from numberdesk.runtime import AppState

console = Console()
err = Console(stderr=True)

Url = Annotated[str, typer.Option("--url", envvar="NUMBERDESK_URL", help="numberdesk base URL")]
Key = Annotated[str, typer.Option("--api-key", envvar="NUMBERDESK_API_KEY", help="API key", show_default=False)]
Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts")]
DEFAULT_URL = "http://127.0.0.1:8000"


def runtime() -> AppState:
    """This machine's deployment (settings from the environment): for server-side commands."""
    return AppState.from_settings(get_settings())


def fail(message: str, code: int = 1) -> None:
    err.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(code)


def emit(data: Any, as_json: bool, human: Any = None) -> None:
    if as_json:
        print(json.dumps(data, indent=2))
    elif human is not None:
        human()
    else:
        console.print_json(data=data)


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2))


def call(fn: Any) -> Any:
    """Run an API call; an API error is printed (with every blocker) and exits 1."""
    try:
        return fn()
    except ApiError as e:
        blockers = e.problem.get("blockers") or []
        lines = [f"{e.problem.get('detail', e)} [{e.code}]"] + [f"  - {b['detail']} [{b['code']}]" for b in blockers]
        # Escaped, so "[code]" is printed rather than read as markup; never wrapped, so
        # each blocker stays on one line for scripts.
        err.print(f"[red]error:[/red] {escape(chr(10).join(lines))}", soft_wrap=True)
        raise typer.Exit(1) from None
