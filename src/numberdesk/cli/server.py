"""Server-side commands: run where the database is, call services directly (no API key)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from numberdesk.cli.console import console, emit, fail, runtime
from numberdesk.config import get_settings

accounts_app = typer.Typer(help="Create accounts and set their billing status (server side).", no_args_is_help=True)
keys_app = typer.Typer(help="Create API keys (server side).", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
maintenance_app = typer.Typer(help="Maintenance windows: buy, release and reactivate pause.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the latest schema."""
    from numberdesk.migrate import upgrade

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    console.print("database is up to date")


@accounts_app.command("create")
def accounts_create(
    name: str,
    owner_email: Annotated[str, typer.Option("--owner-email", help="The owner's sign-in email")],
    timezone: Annotated[str, typer.Option(help="IANA time zone for analytics")] = "UTC",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create an account with its owner; prints the owner's password and an owner API key once."""
    from numberdesk.accounts.service import create_account
    from numberdesk.errors import NumberdeskError

    st = runtime()
    try:
        with st.db.session() as s:
            new = create_account(s, st.clock.now(), name, owner_email, timezone=timezone)
    except NumberdeskError as e:
        fail(e.detail)
        return
    data = {"account_id": new.account.id, "api_key": new.api_key, "owner_email": new.owner.email,
            "password": new.password}
    emit(data, as_json, lambda: console.print(
        f"account [bold]{new.account.id}[/bold]\n  sign in: {new.owner.email} / {new.password}\n"
        f"  API key: {new.api_key}\n[dim]The password and key are shown only now.[/dim]"))


@accounts_app.command("billing-status")
def accounts_billing_status(account_id: str, status: Annotated[str, typer.Argument(help="past_due or good")]) -> None:
    """Mark an account past due (its active numbers turn inactive) or good (they come back)."""
    from numberdesk.accounts.models import BillingStatus
    from numberdesk.billing.service import set_account_status
    from numberdesk.errors import NumberdeskError

    if status not in tuple(BillingStatus):
        fail("status must be past_due or good", 2)
    st = runtime()
    try:
        changed = set_account_status(st, account_id, status)
    except NumberdeskError as e:
        fail(e.detail)
        return
    console.print(f"{account_id} is now {status}; {changed} number(s) changed status")


@keys_app.command("create")
def keys_create(
    account: Annotated[str, typer.Option("--account", help="Account id (acct_…)")],
    role: Annotated[str, typer.Option("--role", help="owner, admin, member or viewer")],
    name: Annotated[str, typer.Option(help="A label for the key")] = "CLI key",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create an API key for an account; the secret is printed once."""
    from numberdesk.accounts.service import get_account_by_id, issue_key
    from numberdesk.errors import NumberdeskError

    st = runtime()
    try:
        with st.db.session() as s:
            get_account_by_id(s, account)
            secret, key = issue_key(s, account, name, role, st.clock.now())
    except NumberdeskError as e:
        fail(e.detail)
        return
    emit({"id": key.id, "api_key": secret, "role": key.role}, as_json,
          lambda: console.print(f"{key.id} ({key.role}): {secret}\n[dim]Shown only now.[/dim]"))


@maintenance_app.command("start")
def maintenance_start(minutes: Annotated[int, typer.Option("--minutes", min=1, max=10080)]) -> None:
    """Start a maintenance window of N minutes."""
    from numberdesk.maintenance.service import start_maintenance

    st = runtime()
    with st.db.session() as s:
        w = start_maintenance(s, st.clock.now(), minutes)
        ends = w.ends_at
    console.print(f"maintenance until {ends:%Y-%m-%d %H:%M:%S} UTC: buy, release and reactivate answer 503")


@maintenance_app.command("end")
def maintenance_end() -> None:
    """End the maintenance window now."""
    from numberdesk.maintenance.service import end_maintenance

    st = runtime()
    with st.db.session() as s:
        n = end_maintenance(s, st.clock.now())
    console.print("maintenance ended" if n else "no maintenance window was in effect")


DEMO_EMAIL = "demo@numberdesk.local"


def _demo_file() -> Path:
    return get_settings().data_dir / "demo-credentials.json"


def demo() -> None:
    """Create the demo account (once) and print its sign-in and API key."""
    from numberdesk.accounts.service import create_account, email_taken

    st = runtime()
    path = _demo_file()
    with st.db.session() as s:
        exists = email_taken(s, DEMO_EMAIL)
        if not exists:
            new = create_account(s, st.clock.now(), "Demo Team", DEMO_EMAIL, timezone="America/Los_Angeles")
            creds = {"account_id": new.account.id, "email": DEMO_EMAIL, "password": new.password,
                     "api_key": new.api_key}
    if not exists:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(creds, f)
        _seed_demo(st, creds)
    creds = json.loads(path.read_text()) if path.exists() else {}
    settings = get_settings()
    console.print(
        f"\n[bold]numberdesk demo account[/bold]\n"
        f"  dashboard: {settings.public_url}/  sign in as {creds.get('email')} / {creds.get('password')}\n"
        f"  API key:   {creds.get('api_key')}\n"
        f"  try:       curl -H 'Authorization: Bearer {creds.get('api_key')}' {settings.public_url}/v1/numbers\n",
        soft_wrap=True)  # never fold the password, the key or the command across lines


def _seed_demo(st: Any, creds: dict[str, str]) -> None:
    """Fill a new demo account with agents, numbers and (when available) call history."""
    from numberdesk.demo import seed

    seed(st, creds["account_id"])


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[int, typer.Option(help="API processes (the in-process worker runs only with 1)")] = 1,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="Do not run the worker in this process")] = False,
) -> None:
    """Run the API and dashboard (and, with one process, the worker)."""
    import uvicorn

    from numberdesk.migrate import upgrade

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    os.environ["NUMBERDESK_RUN_WORKER"] = "0" if (no_worker or workers > 1) else "1"
    console.print(f"numberdesk listening on http://{host}:{port} ({settings.provider} carrier, "
                  f"{'PostgreSQL' if 'postgresql' in settings.resolved_database_url else 'SQLite'})")
    uvicorn.run("numberdesk.asgi:app", host=host, port=port, workers=workers, log_level="warning",
                access_log=False)


def run_worker(once: bool) -> None:
    """The worker alone: every due sweep once (``once``), or in a loop until Ctrl-C.

    The sweeps must be registered (``numberdesk.tasks``; the ``worker`` command imports it).
    """
    from numberdesk.worker.runner import WorkerThread, run_due

    st = runtime()
    if once:
        console.print_json(data=run_due(st.db, st.clock, st.settings))
        return
    console.print("numberdesk worker running (Ctrl-C to stop)")
    t = WorkerThread(st.db, st.clock, st.settings)
    t.start()
    try:
        while t.is_alive():
            t.join(1)
    except KeyboardInterrupt:
        t.stop()
