"""``numberdesk carrier …``: server-side commands about the carrier (run where the database is)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from numberdesk.cli.console import console, fail, runtime

app = typer.Typer(help="The carrier: compare its inventory with ours and repair drift (server side).",
                          no_args_is_help=True)

# Exit status when drift is found and left unrepaired (scripts and monitors read it).
DRIFT_EXIT = 3


@app.command("reconcile")
def reconcile_cmd(
    apply: Annotated[bool, typer.Option("--apply", help="Repair: return orphans, hold missing numbers "
                                                        "inactive, take the carrier's ref")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts")] = False,
) -> None:
    """Compare the carrier's holdings with our numbers; exits 3 while drift is left unrepaired."""
    from numberdesk.carrier_sync.reconcile import reconcile
    from numberdesk.errors import NumberdeskError

    st = runtime()
    try:
        report = reconcile(st.db, st.settings, st.clock, apply=apply)
    except NumberdeskError as e:
        fail(e.detail)
        return
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        console.print(f"{report.provider} carrier: {report.carrier_holdings} number(s) held there, "
                      f"{report.live_numbers} live here")
        if not report.drift:
            console.print("[green]in step[/green]: no drift")
        else:
            t = Table()
            for col in ("Kind", "Number", "Carrier ref", "Our number", "Status", "Action", "Detail"):
                t.add_column(col, no_wrap=col in ("Number", "Carrier ref", "Our number"))
            for d in report.drift:
                t.add_row(d.kind, d.phone_number, d.carrier_ref or "—", d.number_id or "—", d.status or "—",
                          d.action, escape(d.detail))
            console.print(t)
            if not apply:
                console.print("[dim]Nothing changed. Repair with --apply.[/dim]")
    if report.unresolved:
        raise typer.Exit(DRIFT_EXIT)
