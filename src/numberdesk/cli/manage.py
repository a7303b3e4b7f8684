"""``numberdesk numbers bulk|audit``: many numbers at once, over the API."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from numberdesk.cli import numbers
from numberdesk.cli.client import Client
from numberdesk.cli.console import DEFAULT_URL, Json, Key, Url, call, console, fail, print_json

CHUNK = 50


@numbers.app.command("bulk")
def bulk(
    action: Annotated[str, typer.Argument(help="assign, unassign, tag, untag or release")],
    number_ids: Annotated[list[str] | None, typer.Argument(help="number ids; or '-' to read them from stdin")] = None,
    url: Url = DEFAULT_URL, api_key: Key = "",
    agent_id: str | None = None, pool_id: str | None = None,
    tag: Annotated[list[str] | None, typer.Option(help="repeat for several tags")] = None,
    reason: str | None = None, reason_text: str | None = None, notes: str | None = None,
    yes: Annotated[bool, typer.Option("--yes", help="acknowledge that released numbers are disconnected")] = False,
    as_json: Json = False,
) -> None:
    """Run one action over many numbers, with progress and a result per number."""
    ids = list(number_ids or [])
    if ids == ["-"]:
        ids = [line.strip() for line in sys.stdin if line.strip()]
    if not ids:
        fail("give number ids (or '-' to read them from stdin)", 2)
    if action == "release" and not yes:
        fail("releasing disconnects the numbers: add --yes to acknowledge", 2)
    c = Client(url, api_key)
    body = {"action": action, "agent_id": agent_id, "pool_id": pool_id, "tags": tag, "reason": reason,
            "reason_text": reason_text, "notes": notes, "acknowledge": yes if action == "release" else None}
    body = {k: v for k, v in body.items() if v is not None}
    results: list[dict[str, object]] = []
    with Progress(TextColumn(f"{action}"), BarColumn(), MofNCompleteColumn(), console=console,
                  transient=as_json, disable=as_json) as progress:
        task = progress.add_task(action, total=len(ids))
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            out = call(lambda chunk=chunk: c.post("/v1/numbers/bulk", {**body, "number_ids": chunk}))
            results.extend(out["results"])
            progress.advance(task, len(chunk))
    failed = [r for r in results if not r["ok"]]
    if as_json:
        print_json({"action": action, "succeeded": len(results) - len(failed), "failed": len(failed),
                     "results": results})
    else:
        console.print(f"{action}: {len(results) - len(failed)} done, {len(failed)} failed")
        for r in failed:
            console.print(f"  [red]{r['number_id']}[/red]: " + escape(f"{r['detail']} [{r['code']}]"))
    if failed:
        raise typer.Exit(1)


@numbers.app.command("audit")
def audit(
    url: Url = DEFAULT_URL, api_key: Key = "",
    idle_days: Annotated[int, typer.Option(help="a number with no call for this long is idle")] = 30,
    csv_out: Annotated[bool, typer.Option("--csv", help="print CSV")] = False,
    as_json: Json = False,
) -> None:
    """Audit the inventory: unassigned, idle, inactive, overdue, closing windows, naming."""
    c = Client(url, api_key)
    if csv_out:
        r = c.raw("GET", "/v1/inventory-audit.csv", idle_days=idle_days)
        if r.status_code >= 400:
            fail(r.text)
        sys.stdout.write(r.text)
        return
    body = call(lambda: c.get("/v1/inventory-audit", idle_days=idle_days))
    if as_json:
        print_json(body)
        return
    counts = body["counts"]
    console.print("  ".join(f"{k}: [bold]{v}[/bold]" for k, v in counts.items()))
    cost = ", ".join(f"{m['amount']} {m['currency']}" for m in body["idle_monthly_cost"]) or "0"
    console.print(f"idle numbers cost {cost} a month")
    t = Table()
    for col in ("Number", "Friendly name", "Status", "Last call", "Findings"):
        t.add_column(col)
    for row in body["data"]:
        n = row["number"]
        t.add_row(n["national_format"], n["friendly_name"], n["status"], row["last_call_at"] or "never",
                  ", ".join(row["findings"]))
    console.print(t)

