"""``numberdesk numbers …``: operator commands over the HTTP API."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from numberdesk.cli.client import Client
from numberdesk.cli.console import DEFAULT_URL, Json, Key, Url, call, console, print_json

app = typer.Typer(help="Search, buy, list and manage numbers over the API.", no_args_is_help=True)


def numbers_table(rows: list[dict[str, Any]]) -> Table:
    t = Table(show_lines=False)
    for col in ("Number", "Friendly name", "Status", "Type", "Assignment", "Monthly", "Purchased", "ID"):
        t.add_column(col, no_wrap=col in ("Number", "ID"))
    colours = {"active": "green", "pending": "yellow", "inactive": "red", "released": "bright_black"}
    for n in rows:
        status = n["status"] + (f" ({n['status_reason']})" if n.get("status_reason") else "")
        a = n.get("assignment")
        t.add_row(f"{n['national_format']}\n[dim]{n['phone_number']}[/dim]", n["friendly_name"],
                  f"[{colours.get(n['status'], 'white')}]{status}[/]", n["type"],
                  f"{a['type']}: {a['name']}" if a else "—",
                  f"{n['monthly_price']['amount']} {n['monthly_price']['currency']}",
                  n["purchased_at"][:10], n["id"])
    return t


@app.command("search")
def search(
    url: Url = DEFAULT_URL, api_key: Key = "", country: str | None = None,
    type: Annotated[str | None, typer.Option(help="local, toll_free or mobile")] = None,
    area_code: str | None = None, prefix: str | None = None,
    contains: Annotated[str | None, typer.Option(help="digits, letters (keypad) and * for any digit")] = None,
    capabilities: str | None = None, locality: str | None = None, limit: int = 20, as_json: Json = False,
) -> None:
    """Search the carrier's available numbers."""
    c = Client(url, api_key)
    page = call(lambda: c.get("/v1/available-numbers", country=country, type=type, area_code=area_code,
                               prefix=prefix, contains=contains, capabilities=capabilities,
                               locality=locality, limit=limit))
    if as_json:
        print_json(page)
        return
    t = Table()
    for col in ("Number", "E.164", "Type", "Locality", "Capabilities", "Monthly", "Setup"):
        t.add_column(col)
    for x in page["data"]:
        caps = ",".join(k for k, v in x["capabilities"].items() if v)
        t.add_row(x["national_format"], x["phone_number"], x["type"],
                  ", ".join(p for p in (x["locality"], x["region"]) if p), caps,
                  f"{x['monthly_price']['amount']} {x['monthly_price']['currency']}",
                  f"{x['setup_price']['amount']} {x['setup_price']['currency']}")
    console.print(t if page["data"] else "no numbers match; widen the search")


@app.command("buy")
def buy(
    phone_number: str, url: Url = DEFAULT_URL, api_key: Key = "", friendly_name: str | None = None,
    agent_id: str | None = None, department: str | None = None,
    tag: Annotated[list[str] | None, typer.Option(help="repeat for several tags")] = None,
    idempotency_key: Annotated[str | None, typer.Option(help="defaults to a fresh key per command")] = None,
    as_json: Json = False,
) -> None:
    """Buy a number (it starts pending)."""
    c = Client(url, api_key)
    body = {"phone_number": phone_number, "friendly_name": friendly_name, "agent_id": agent_id,
            "department": department, "tags": tag}
    body = {k: v for k, v in body.items() if v is not None}
    n = call(lambda: c.post("/v1/numbers", body, idempotency_key=idempotency_key or str(uuid.uuid4())))
    if as_json:
        print_json(n)
    else:
        console.print(f"bought {n['national_format']} ({n['id']}), status {n['status']}, "
                      f"{n['monthly_price']['amount']} {n['monthly_price']['currency']}/month")


@app.command("list")
def list_(
    url: Url = DEFAULT_URL, api_key: Key = "", status: str | None = None, type: str | None = None,
    agent_id: str | None = None, assigned: bool | None = None, tag: str | None = None,
    department: str | None = None, q: str | None = None, sort: str | None = None,
    limit: int = 50, all_pages: Annotated[bool, typer.Option("--all", help="follow every page")] = False,
    as_json: Json = False,
) -> None:
    """List the account's numbers."""
    c = Client(url, api_key)
    params = {"status": status, "type": type, "agent_id": agent_id, "tag": tag, "department": department,
              "q": q, "sort": sort, "limit": limit,
              "assigned": None if assigned is None else str(assigned).lower()}
    if all_pages:
        rows = call(lambda: list(c.iterate("/v1/numbers", **params)))
        page = {"data": rows, "next_cursor": None}
    else:
        page = call(lambda: c.get("/v1/numbers", **params))
    if as_json:
        print_json(page)
        return
    console.print(numbers_table(page["data"]))
    if page.get("next_cursor"):
        console.print("[dim]more numbers: use --all or --limit[/dim]")


@app.command("show")
def show(number_id: str, url: Url = DEFAULT_URL, api_key: Key = "", as_json: Json = False) -> None:
    """Show one number."""
    c = Client(url, api_key)
    n = call(lambda: c.get(f"/v1/numbers/{number_id}"))
    if as_json:
        print_json(n)
        return
    console.print(numbers_table([n]))
    if n.get("provisioning_overdue"):
        console.print("[red]Provisioning has taken over 48 hours: contact support.[/red]")
    if n.get("release"):
        r = n["release"]
        console.print(f"released {r['released_at']} ({r['reason']}); cooldown ends {r['cooldown_ends_at']}; "
                      f"reclaim by {r['reclaim_deadline']}")


@app.command("assign")
def assign(
    number_id: str, url: Url = DEFAULT_URL, api_key: Key = "",
    agent_id: Annotated[str | None, typer.Option(help="agent to assign to")] = None,
    pool_id: Annotated[str | None, typer.Option(help="pool to assign to")] = None,
    unassign: Annotated[bool, typer.Option("--none", help="remove the assignment")] = False,
    as_json: Json = False,
) -> None:
    """Assign a number to an agent or a pool (or --none)."""
    c = Client(url, api_key)
    if unassign:
        n = call(lambda: c.post(f"/v1/numbers/{number_id}/unassign"))
    else:
        body = {"agent_id": agent_id} if agent_id else {"pool_id": pool_id}
        n = call(lambda: c.post(f"/v1/numbers/{number_id}/assign", body))
    if as_json:
        print_json(n)
    else:
        a = n.get("assignment")
        console.print(f"{n['national_format']} → {a['type'] + ' ' + a['name'] if a else 'unassigned'}")


@app.command("release")
def release(
    number_id: str,
    reason: Annotated[str, typer.Option(
        help="no_longer_needed, cost_reduction, replaced, spam_reported or other")],
    url: Url = DEFAULT_URL, api_key: Key = "",
    reason_text: Annotated[str | None, typer.Option(help="why, when the reason is other")] = None,
    notes: Annotated[str | None, typer.Option(help="notes kept with the release")] = None,
    yes: Annotated[bool, typer.Option("--yes", "--acknowledge",
                                      help="acknowledge that the number will be disconnected")] = False,
    detach_dependencies: Annotated[bool, typer.Option(
        "--detach-dependencies", help="detach the call flows and automations that use it")] = False,
    as_json: Json = False,
) -> None:
    """Release a number (it stops working now; reclaimable after the cooldown, until the deadline)."""
    c = Client(url, api_key)
    if not yes and typer.get_text_stream("stdin").isatty():
        yes = typer.confirm(f"{number_id} will be disconnected. Release it?", default=False)
    body = {"reason": reason, "reason_text": reason_text, "notes": notes, "acknowledge": yes,
            "detach_dependencies": detach_dependencies}
    n = call(lambda: c.post(f"/v1/numbers/{number_id}/release", body, idempotency_key=str(uuid.uuid4())))
    if as_json:
        print_json(n)
        return
    r = n["release"]
    console.print(f"released {n['national_format']} ({n['id']}): {r['reason']}\n"
                  f"  cooldown ends  {r['cooldown_ends_at']}\n  reclaim by     {r['reclaim_deadline']}")


@app.command("reactivation")
def reactivation(number_id: str, url: Url = DEFAULT_URL, api_key: Key = "", as_json: Json = False) -> None:
    """Show whether a released number can be reactivated now, check by check."""
    c = Client(url, api_key)
    e = call(lambda: c.get(f"/v1/numbers/{number_id}/reactivation"))
    if as_json:
        print_json(e)
        return
    console.print(f"{number_id}: {'[green]eligible[/green]' if e['eligible'] else '[red]not eligible[/red]'} "
                  f"for reactivation")
    if e.get("cooldown_ends_at"):
        console.print(f"  cooldown ends {e['cooldown_ends_at']}; reclaim by {e['reclaim_deadline']}")
    for ch in e["checks"]:
        mark = "[green]ok[/green]  " if ch["ok"] else "[red]FAIL[/red]"
        console.print(f"  {mark} {escape(ch['detail'])} [dim]{escape('[' + ch['code'] + ']')}[/dim]", highlight=False)


@app.command("reactivate")
def reactivate(
    number_id: str, url: Url = DEFAULT_URL, api_key: Key = "",
    restore_assignment: Annotated[bool, typer.Option(
        "--restore-assignment/--no-restore-assignment", help="give back the previous assignment")] = True,
    as_json: Json = False,
) -> None:
    """Reactivate a released number within its reclaim window."""
    c = Client(url, api_key)
    n = call(lambda: c.post(f"/v1/numbers/{number_id}/reactivate", {"restore_assignment": restore_assignment},
                             idempotency_key=str(uuid.uuid4())))
    if as_json:
        print_json(n)
        return
    a = n.get("assignment")
    console.print(f"reactivated {n['national_format']} ({n['id']}), status {n['status']}, "
                  f"{'assigned to ' + a['type'] + ' ' + a['name'] if a else 'unassigned'}")


@app.command("history")
def history(number_id: str, url: Url = DEFAULT_URL, api_key: Key = "", as_json: Json = False) -> None:
    """Every status change of a number, oldest first."""
    c = Client(url, api_key)
    page = call(lambda: c.get(f"/v1/numbers/{number_id}/history"))
    if as_json:
        print_json(page)
        return
    t = Table()
    for col in ("At", "From", "To", "Reason", "Actor"):
        t.add_column(col)
    for r in page["data"]:
        t.add_row(r["at"], r["from"] or "—", r["to"], r["reason"] or "", r["actor"])
    console.print(t)
