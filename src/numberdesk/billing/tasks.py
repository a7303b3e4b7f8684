"""Time-driven billing work, registered with the worker (in this order)."""

from __future__ import annotations

from numberdesk.billing.inactive import sweep_billing_holds, sweep_configuration
from numberdesk.billing.service import sweep_charges
from numberdesk.worker import sweep

sweep("billing_status")(sweep_billing_holds)
sweep("configuration")(sweep_configuration)
sweep("billing")(sweep_charges)
