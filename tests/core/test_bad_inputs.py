"""Bad input on every endpoint: a 4xx problem+json with a code, nothing written, never a 500."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from tests.core.helpers import assert_problem, counts
from tests.core.route_table import EXEMPT, TABLE, World

COUNTED = ("phone_numbers", "agents", "audit_events")
ROUTED = sorted(k for k, r in TABLE.items() if r.role != EXEMPT)
# Cursors no list ever returned (the typed ones are in test_inventory.py).
BAD_CURSORS = ["%%%", "W10", base64.urlsafe_b64encode(b'["x"]').decode(), "x" * 400,
               base64.urlsafe_b64encode(b'{"a": 1}').decode(), base64.urlsafe_b64encode(b"\xff\xfe").decode()]


def operation(app, method: str, path: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return app.openapi()["paths"].get(path, {}).get(method.lower(), {})


def query_params(op: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p.get("schema", {}) for p in op.get("parameters", []) if p["in"] == "query"}


def takes_text(schema: dict[str, Any]) -> bool:
    kinds = [schema, *schema.get("anyOf", [])]
    return any(k.get("type") == "string" and "enum" not in k and "format" not in k for k in kinds)


def cases(app, key: tuple[str, str], world: World) -> list[tuple[str, dict[str, Any]]]:  # type: ignore[no-untyped-def]
    """(label, request kwargs) of every bad call of the route: generic ones and the table's own."""
    method, template = key
    route = TABLE[key]
    op = operation(app, method, template)
    good_query = route.query(world) if route.query else {}
    good_body = route.body(world) if route.body else None
    path = template.format(**(route.path(world) if route.path else {}))
    out: list[tuple[str, dict[str, Any]]] = []

    def q(label: str, extra: dict[str, Any]) -> None:
        out.append((label, {"path": path, "params": {**good_query, **extra},
                            **({"json": good_body} if good_body is not None else {})}))

    params = query_params(op)
    if "limit" in params:
        for v in (0, -1, 100000, "ten", ""):
            q(f"limit={v}", {"limit": v})
    if "cursor" in params:
        for c in BAD_CURSORS:
            q(f"cursor={c[:12]}", {"cursor": c})
    for name, schema in params.items():
        if takes_text(schema) and name not in ("cursor",):
            q(f"{name} with NUL", {name: "a\x00b"})
            q(f"{name} overlong", {name: "9" * 5000})
    for extra in route.bad_queries:
        q(f"query {extra}", extra)

    if "requestBody" in op:
        for label, raw in (("malformed JSON", b'{"a": '), ("not an object", b"[1, 2]"), ("a string", b'"x"'),
                           ("NUL byte", b'{"a": "\x00'), ("not UTF-8", b'{"name": "\xff\xfe"}')):
            out.append((label, {"path": path, "params": good_query, "content": raw,
                                "headers": {"Content-Type": "application/json"}}))
        valid = good_body if isinstance(good_body, dict) else {}
        out.append(("unknown field", {"path": path, "params": good_query, "json": {**valid, "zz_unknown": 1}}))
        for name, value in valid.items():
            if isinstance(value, str):
                out.append((f"{name} with NUL", {"path": path, "params": good_query,
                                                 "json": {**valid, name: value[:1] + "\x00" + value[1:]}}))
        for bad in route.bad_bodies:
            out.append((f"body {str(bad)[:60]}", {"path": path, "params": good_query, "json": bad}))

    for bad in route.bad_paths:
        good = route.path(world) if route.path else {}
        out.append((f"path {bad}", {"path": template.format(**{**good, **bad}), "params": good_query,
                                    **({"json": good_body} if good_body is not None else {})}))
    for name in re.findall(r"{(\w+)}", template):
        for label, value in (("NUL", "num_%00x"), ("overlong", "x" * 3000), ("dots", "..%2f..%2fetc")):
            bad_path = template.replace("{" + name + "}", value)
            bad_path = bad_path.format(**{k: v for k, v in (route.path(world) if route.path else {}).items()
                                          if k != name})
            out.append((f"{name} {label}", {"path": bad_path, "params": good_query,
                                            **({"json": good_body} if good_body is not None else {})}))
    return out


@pytest.mark.parametrize("key", ROUTED, ids=[f"{m} {p}" for m, p in ROUTED])
def test_bad_input_is_refused_cleanly(app, alice, db_url, key):
    method = key[0]
    world = World(alice)
    all_cases = cases(app, key, world)
    if key[0] == "GET" and not TABLE[key].bad_queries and "{" not in key[1]:
        # A read with no parameters to get wrong: at least its valid call must work.
        assert alice.get(key[1]).status_code == 200
    for label, spec in all_cases:
        path = spec.pop("path")
        before = counts(db_url, COUNTED)
        r = alice.client.request(method, path, headers={**alice.headers, **spec.pop("headers", {})}, **spec)
        assert 400 <= r.status_code < 500, (label, r.status_code, r.text[:400])
        assert_problem(r)
        assert counts(db_url, COUNTED) == before, f"{label}: something was written"


def test_every_route_gets_bad_cases_or_takes_no_input(app, alice):
    """A route with parameters or a body gets at least one bad call."""
    world = World(alice)
    for key in ROUTED:
        op = operation(app, *key)
        takes_input = "requestBody" in op or query_params(op) or "{" in key[1]
        if takes_input:
            assert cases(app, key, world), key
