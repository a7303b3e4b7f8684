"""Calls → Phone Numbers: the inventory, Add a Number, the number dialogs, the number page.

One router, in the order its paths are matched (the number page's ``/numbers/{id}``
comes after ``/numbers/add`` and ``/numbers/summary``).
"""

from __future__ import annotations

from fastapi import APIRouter

from numberdesk.dashboard.numbers import buy, dialogs, inventory, page

router = APIRouter(include_in_schema=False)
for _module in (inventory, buy, dialogs, page):
    router.include_router(_module.router)
