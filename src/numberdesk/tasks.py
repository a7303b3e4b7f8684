"""The task root: imports every domain's sweeps and fixes the order they run in.

The app (its in-process worker) and the CLI (``numberdesk worker``) import this
module; nothing below it knows which sweeps exist.
"""

from __future__ import annotations

from numberdesk.billing import tasks as billing_tasks
from numberdesk.calls import tasks as calls_tasks
from numberdesk.carrier_sync import tasks as carrier_tasks
from numberdesk.numbers import tasks as numbers_tasks
from numberdesk.worker import registry

# Changes of status first (a number activated in this round is checked and billed in
# this round too), then what is derived from status.
ORDER = ("provisioning", "provisioning_overdue", "reclaim_window", "billing_status", "configuration",
         "billing", "stale_active_calls", "reconcile")
MODULES = (numbers_tasks, billing_tasks, carrier_tasks, calls_tasks)

registry.arrange(ORDER)
