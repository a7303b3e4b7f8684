"""Time-driven billing work, registered with the worker."""

from __future__ import annotations

from numberdesk.billing.service import sweep_billing_holds, sweep_charges
from numberdesk.worker.registry import sweep

sweep("billing_status")(sweep_billing_holds)
sweep("billing")(sweep_charges)
