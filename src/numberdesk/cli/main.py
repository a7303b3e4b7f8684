"""The ``numberdesk`` command: the root Typer, assembled from one Typer per command module."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from numberdesk.cli import carrier, manage, numbers, server

app = typer.Typer(help="numberdesk: the control plane for your AI voice agents' phone numbers.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.command()(server.demo)
app.command()(server.serve)


@app.command()
def worker(once: Annotated[bool, typer.Option("--once", help="Run the due sweeps once and exit")] = False) -> None:
    """Run the worker alone (time-driven changes: provisioning, windows, billing)."""
    import numberdesk.tasks  # noqa: F401  (registers every sweep)

    server.run_worker(once)


app.add_typer(server.accounts_app, name="accounts")
app.add_typer(server.keys_app, name="keys")
app.add_typer(server.db_app, name="db")
app.add_typer(server.maintenance_app, name="maintenance")
app.add_typer(numbers.app, name="numbers")
app.add_typer(carrier.app, name="carrier")

__all__ = ["app", "main", "manage"]  # manage adds its commands to ``numbers.app``


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(main())
