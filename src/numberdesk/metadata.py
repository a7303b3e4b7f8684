"""Imports every model, so ``Base.metadata`` is the whole schema (Alembic, tests).

A new model is added here too: ``alembic check`` compares this metadata with the migrations.
"""

from numberdesk.accounts.models import Account, ApiKey, User
from numberdesk.agents.models import Agent
from numberdesk.api.models import IdempotencyRecord
from numberdesk.audit.models import AuditEvent
from numberdesk.automations.models import Automation, AutomationNumber
from numberdesk.billing.models import Charge
from numberdesk.calls.models import ActiveCall, Call, CallRollup, WebhookEvent
from numberdesk.db import Base
from numberdesk.maintenance.models import MaintenanceWindow
from numberdesk.numbers.models import InactiveCause, NumberTag, PhoneNumber, StatusChange
from numberdesk.pools.models import Pool, PoolSticky
from numberdesk.providers.sandbox.clock import ClockState
from numberdesk.providers.sandbox.models import SandboxOrder, SandboxReturn, SandboxSwitch
from numberdesk.worker.models import SweepMark

__all__ = [
    "Account", "ActiveCall", "Agent", "ApiKey", "AuditEvent", "Automation", "AutomationNumber",
    "Base", "Call", "CallRollup", "Charge", "ClockState", "IdempotencyRecord", "InactiveCause",
    "MaintenanceWindow", "NumberTag", "PhoneNumber", "Pool", "PoolSticky", "SandboxOrder", "SandboxReturn",
    "SandboxSwitch", "StatusChange", "SweepMark", "User", "WebhookEvent",
]
