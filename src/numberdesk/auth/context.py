"""Who is acting, for which account, in which transaction: handed to every service call."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from numberdesk.auth.permissions import allowed
from numberdesk.clock import Clock, SystemClock
from numberdesk.config import Settings
from numberdesk.errors import Forbidden


@dataclass
class Ctx:
    session: Session
    account_id: str
    actor: str           # "key_…", "usr_…", or "system"
    role: str
    clock: Clock
    settings: Settings
    request_id: str | None = None
    _now: dt.datetime | None = field(default=None, repr=False)

    def require(self, permission: str) -> None:
        if not allowed(self.role, permission):
            raise Forbidden(f"The {self.role} role may not do this ({permission}).")

    def now(self) -> dt.datetime:
        """The clock's time, read once per unit of work so one change has one time."""
        if self._now is None:
            self._now = self.clock.now()
        return self._now


def system_ctx(session: Session, settings: Settings, account_id: str, at: dt.datetime) -> Ctx:
    """The context of a change the system makes on its own (worker, operator tools), effective at ``at``."""
    return Ctx(session=session, account_id=account_id, actor="system", role="owner", clock=SystemClock(),
               settings=settings, _now=at)
