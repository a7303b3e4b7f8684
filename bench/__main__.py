"""Run the benchmarks: ``python -m bench`` runs every ``bench/bench_*.py``, ``python -m bench core calls``
the named ones. Prints one table and keeps the results in ``bench/.cache/results.json``
(a partial run replaces only its modules' rows). Exits 1 when a figure missed its target.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # "bench" importable when run from elsewhere
sys.path.insert(0, str(HERE.parent / "src"))

from bench.common import CACHE, say  # noqa: E402


def available() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def normalise(name: str, row: dict[str, Any]) -> dict[str, Any]:
    """Rows in the shared shape, whatever spelling a module used."""
    out = dict(row)
    out.setdefault("bench", name)
    if "value" not in out and "p50_ms" in out:
        out["value"] = out["p50_ms"]
        out.setdefault("unit", "ms (p50)")
    out.setdefault("unit", "")
    if "reference_name" not in out:
        out["reference_name"] = out.get("reference")
    if "ratio" not in out:
        out["ratio"] = out.get("ratio_vs_bare")
    if "reference_value" not in out:
        out["reference_value"] = out.get("bare_p50_ms")
    out.setdefault("target", "")
    out.setdefault("ok", None)
    return out


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, int | float) and not isinstance(v, bool):
        return f"{v:,.3f}".rstrip("0").rstrip(".") if abs(v) < 1000 else f"{v:,.0f}"
    return str(v)


def table(rows: list[dict[str, Any]]) -> str:
    head = ("bench", "figure", "value", "unit", "reference", "ref. value", "ratio", "target", "")
    body = [(r["bench"], r["name"], _cell(r.get("value")), r["unit"], _cell(r["reference_name"]),
             _cell(r["reference_value"]), _cell(r["ratio"]), r["target"],
             {True: "ok", False: "MISSED", None: ""}[r["ok"]]) for r in rows]
    widths = [max(len(str(x[i])) for x in [head, *body]) for i in range(len(head))]
    fmt = "  ".join(f"{{:{'>' if i in (2, 5, 6) else '<'}{w}}}" for i, w in enumerate(widths))
    lines = [fmt.format(*head), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*r) for r in body]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    names = available()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("which", nargs="*", metavar="NAME", help=f"modules to run (default all: {', '.join(names)})")
    args = parser.parse_args(argv)
    chosen = args.which or names
    unknown = [w for w in chosen if w not in names]
    if unknown:
        parser.error(f"no benchmark {', '.join(unknown)}; there are: {', '.join(names)}")

    rows: list[dict[str, Any]] = []
    failed: list[str] = []
    started = time.perf_counter()
    for name in chosen:
        say(f"== {name}")
        t = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.bench_{name}")
            rows += [normalise(name, r) for r in module.run()]
        except Exception:  # one broken module must not hide the others' figures
            traceback.print_exc()
            failed.append(name)
        say(f"== {name} took {time.perf_counter() - t:.0f} s")

    say("")
    say(table(rows))
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / "results.json"
    kept: list[dict[str, Any]] = []
    if path.exists():
        try:
            kept = [r for r in json.loads(path.read_text())["results"] if r.get("bench") not in chosen]
        except (ValueError, KeyError, TypeError):
            kept = []
    doc = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
           "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
           "seconds": round(time.perf_counter() - started, 1), "results": kept + rows}
    path.write_text(json.dumps(doc, indent=2))
    say(f"\nresults: {path}")
    missed = [r["name"] for r in rows if r["ok"] is False]
    if failed:
        say(f"failed to run: {', '.join(failed)}")
    if missed:
        say(f"missed targets: {'; '.join(missed)}")
    return 1 if failed or missed else 0


if __name__ == "__main__":
    sys.exit(main())
