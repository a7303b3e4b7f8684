"""Time-driven changes of numbers, registered with the worker."""

from __future__ import annotations

from numberdesk.numbers.service import sweep_provisioning
from numberdesk.worker import sweep

sweep("provisioning")(sweep_provisioning)
