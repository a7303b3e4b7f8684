"""An account's billing status. Past due makes its active numbers inactive (billing)."""

from __future__ import annotations

from numberdesk.accounts.service import get_account_by_id, system_ctx
from numberdesk.audit import service as audit
from numberdesk.state import AppState


def set_billing_status(st: AppState, account_id: str, status: str) -> int:
    """Set the status; returns how many numbers changed status as a consequence."""
    with st.db.session() as s:
        account = get_account_by_id(s, account_id)
        ctx = system_ctx(s, account_id, st.clock.now())
        before = account.billing_status
        account.billing_status = status
        audit.record(ctx, "account.billing_status", "account", account_id,
                     {"billing_status": before}, {"billing_status": status})
        return apply_billing_status(ctx, status)


def apply_billing_status(ctx, status: str) -> int:  # type: ignore[no-untyped-def]
    """Number status follows billing status (past due holds active numbers inactive)."""
    from numberdesk.billing.inactive import follow_billing_status

    return follow_billing_status(ctx, status)
