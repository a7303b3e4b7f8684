"""What every benchmark module shares: the cache directory, timing, and the shape of a figure.

A figure is one dict:
    {"bench", "name", "value", "unit", "reference_name", "reference_value", "ratio", "target", "ok"}
``value`` is the measured number, ``reference_value`` the baseline measured in the same
run (the bare framework, a plain scan, OFFSET paging …), ``ratio`` = value / reference.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CACHE = Path(__file__).resolve().parent / ".cache"


def say(*parts: object) -> None:
    print(*parts, flush=True)


def timings_ms(fn: Callable[[], Any], repeat: int, warmup: int = 2) -> list[float]:
    """Wall-clock milliseconds of ``repeat`` calls of ``fn`` (after ``warmup`` unmeasured ones)."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def p50(values: list[float]) -> float:
    return statistics.median(values)


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def figure(bench: str, name: str, value: float, unit: str, reference_name: str | None,
           reference_value: float | None, target: str, ok: bool | None, **extra: Any) -> dict[str, Any]:
    """One result row; printed as it is made so a long run shows progress."""
    ratio = round(value / reference_value, 4) if reference_value else None
    row = {"bench": bench, "name": name, "value": round(value, 3), "unit": unit,
           "reference_name": reference_name,
           "reference_value": None if reference_value is None else round(reference_value, 3),
           "ratio": ratio, "target": target, "ok": ok, **extra}
    verdict = "" if ok is None else (" OK" if ok else " MISSED")
    ref = f" | {reference_name}: {row['reference_value']} {unit}" if reference_name else ""
    say(f"  {name}: {row['value']} {unit}{ref} | target {target}{verdict}")
    return row
