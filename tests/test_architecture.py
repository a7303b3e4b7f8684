"""The layers of docs/architecture.md, checked on the real import graph (grimp).

Every module of ``numberdesk`` belongs to exactly one layer of ``LAYERS`` (first
pattern that matches, top to bottom). A module may import modules of its own layer
or of layers below it, never above; and no module imports itself back through any
chain (no import cycles). Imports inside functions count: a cycle hidden in a
function is still a cycle. ``make lint`` runs this file too.

A new module must be given a layer here: an unclassified module fails the check.
"""

from __future__ import annotations

import fnmatch
from functools import lru_cache

import grimp

# Top to bottom. Within a layer modules may import each other (without cycles).
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("roots", (
        "numberdesk.app", "numberdesk.asgi", "numberdesk.__main__", "numberdesk.tasks",
        "numberdesk.metadata", "numberdesk.migrations", "numberdesk.migrations.*", "numberdesk.cli.main",
    )),
    ("edges", (
        "numberdesk.cli", "numberdesk.cli.*", "numberdesk.dashboard", "numberdesk.dashboard.*",
        "numberdesk.api", "numberdesk.api.*", "numberdesk.demo",
        "numberdesk.*.endpoints", "numberdesk.*.*_endpoints", "numberdesk.*.schemas", "numberdesk.*.tasks",
        "numberdesk.providers.sandbox.endpoints", "numberdesk.routing.fastpath", "numberdesk.calls.export",
    )),
    ("troubleshoot", ("numberdesk.troubleshoot", "numberdesk.troubleshoot.*")),
    ("sandbox controls", ("numberdesk.providers.sandbox.controls",)),
    ("carrier sync", ("numberdesk.carrier_sync", "numberdesk.carrier_sync.*")),
    ("routing", ("numberdesk.routing.decide", "numberdesk.routing.answer", "numberdesk.routing.webhooks",
                 "numberdesk.routing.signatures", "numberdesk.routing.twiml")),
    ("analytics", ("numberdesk.analytics.service",)),
    ("billing", ("numberdesk.billing.service", "numberdesk.billing.export")),
    ("calls", ("numberdesk.calls.service", "numberdesk.calls.events", "numberdesk.calls.ingest",
               "numberdesk.calls.storage")),
    ("numbers", ("numberdesk.numbers.service", "numberdesk.numbers.release", "numberdesk.numbers.holds",
                 "numberdesk.numbers.history", "numberdesk.numbers.bulk", "numberdesk.numbers.inventory_audit",
                 "numberdesk.numbers.purchase")),
    ("pools and automations", ("numberdesk.pools.service", "numberdesk.automations.service")),
    ("agents", ("numberdesk.agents.service",)),
    ("accounts", ("numberdesk.accounts.service",)),
    ("maintenance", ("numberdesk.maintenance.service",)),
    ("audit", ("numberdesk.audit.service",)),
    ("repositories", ("numberdesk.*.repository",)),
    ("providers", ("numberdesk.providers.registry", "numberdesk.providers.common", "numberdesk.providers.twilio",
                   "numberdesk.providers.telnyx", "numberdesk.providers.sandbox.carrier",
                   "numberdesk.providers.sandbox.inventory")),
    ("process", ("numberdesk.runtime", "numberdesk.worker", "numberdesk.worker.*", "numberdesk.auth",
                 "numberdesk.auth.*", "numberdesk.providers.sandbox.clock")),
    ("records", (
        "numberdesk.*.models", "numberdesk.providers.sandbox.models", "numberdesk.numbers.lifecycle",
        "numberdesk.numbers.naming", "numberdesk.billing.ledger", "numberdesk.analytics.periods",
        "numberdesk.routing.resolve", "numberdesk.agents.destinations", "numberdesk.providers.base",
        "numberdesk.accounts", "numberdesk.agents", "numberdesk.analytics", "numberdesk.audit",
        "numberdesk.automations", "numberdesk.billing", "numberdesk.calls", "numberdesk.maintenance",
        "numberdesk.numbers", "numberdesk.pools", "numberdesk.providers", "numberdesk.providers.sandbox",
        "numberdesk.routing",
    )),
    ("kit", ("numberdesk", "numberdesk.kit", "numberdesk.kit.*", "numberdesk.errors", "numberdesk.config",
             "numberdesk.db", "numberdesk.clock", "numberdesk.migrate")),
)


def layer_of(module: str) -> int | None:
    for rank, (_, patterns) in enumerate(LAYERS):
        if any(fnmatch.fnmatchcase(module, p) for p in patterns):
            return rank
    return None


@lru_cache(maxsize=1)
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("numberdesk", cache_dir=None)


def test_every_module_has_a_layer() -> None:
    missing = sorted(m for m in graph().modules if layer_of(m) is None)
    assert not missing, f"modules without a layer in tests/test_architecture.py LAYERS: {missing}"


def test_no_import_points_up() -> None:
    g = graph()
    upward = []
    for importer in sorted(g.modules):
        low = layer_of(importer)
        for imported in sorted(g.find_modules_directly_imported_by(importer)):
            high = layer_of(imported)
            if low is not None and high is not None and high < low:
                for d in g.get_import_details(importer=importer, imported=imported):
                    upward.append(f"{importer}:{d['line_number']} ({LAYERS[low][0]}) imports {imported} "
                                  f"({LAYERS[high][0]})")
    assert not upward, "imports that point up the layers:\n  " + "\n  ".join(upward)


def _cycles(g: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    edges = {m: sorted(g.find_modules_directly_imported_by(m)) for m in g.modules}
    for root in sorted(g.modules):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            children = edges[node]
            if i < len(children):
                work.append((node, i + 1))
                child = children[i]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    component.append(m)
                    if m == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return out


def test_no_import_cycles() -> None:
    cycles = _cycles(graph())
    assert not cycles, "import cycles:\n  " + "\n  ".join(" <-> ".join(c) for c in cycles)


def test_the_checks_see_a_cycle_and_an_upward_import() -> None:
    """The checker itself: a made-up graph with one cycle and one upward import is caught."""
    g = grimp.ImportGraph()
    for m in ("numberdesk.kit.a", "numberdesk.kit.b", "numberdesk.app"):
        g.add_module(m)
    g.add_import(importer="numberdesk.kit.a", imported="numberdesk.kit.b")
    g.add_import(importer="numberdesk.kit.b", imported="numberdesk.kit.a")
    g.add_import(importer="numberdesk.kit.a", imported="numberdesk.app")
    assert _cycles(g) == [["numberdesk.kit.a", "numberdesk.kit.b"]]
    assert layer_of("numberdesk.kit.a") > layer_of("numberdesk.app")  # type: ignore[operator]
