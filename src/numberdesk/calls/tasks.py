"""Time-driven changes of calls, registered with the worker."""

from __future__ import annotations

from numberdesk.calls.service import sweep_stale_active_calls
from numberdesk.worker.registry import sweep

sweep("stale_active_calls")(sweep_stale_active_calls)
