"""The dashboard's router: sign-in, Phone Numbers, Agents, Audit log, Settings, sandbox clock.

(Analytics and Billing are routers of their own, ``dashboard/analytics.py`` and
``dashboard/billing.py``, built on ``dashboard/common.py``.)
"""

from __future__ import annotations

from fastapi import APIRouter

from numberdesk.dashboard import admin_views, agents_views, auth_views, numbers

router = APIRouter(include_in_schema=False)
for _module in (auth_views, numbers, agents_views, admin_views):
    router.include_router(_module.router)
