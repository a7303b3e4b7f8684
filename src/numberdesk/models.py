"""Imports every model so the metadata is complete (Alembic, tests)."""

from numberdesk.accounts.models import Account, ApiKey, User
from numberdesk.agents.models import Agent
from numberdesk.audit.models import AuditEvent
from numberdesk.automations.models import Automation, AutomationNumber
from numberdesk.billing.models import Charge
from numberdesk.calls.models import ActiveCall, Call, WebhookEvent
from numberdesk.db import Base
from numberdesk.numbers.models import NumberTag, PhoneNumber, StatusChange
from numberdesk.pools.models import Pool, PoolSticky
from numberdesk.providers.sandbox.models import SandboxOrder, SandboxReturn, SandboxSwitch
from numberdesk.system.models import ClockState, IdempotencyRecord, MaintenanceWindow

__all__ = [
    "Account", "ActiveCall", "Agent", "ApiKey", "AuditEvent", "Automation", "AutomationNumber",
    "Base", "Call", "Charge", "ClockState", "IdempotencyRecord", "MaintenanceWindow",
    "NumberTag", "PhoneNumber", "Pool", "PoolSticky", "SandboxOrder", "SandboxReturn", "SandboxSwitch",
    "StatusChange", "User", "WebhookEvent",
]
