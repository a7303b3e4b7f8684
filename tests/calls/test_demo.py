"""The demo account's contents: numbers through the purchase service, calls through the ingest."""

from __future__ import annotations

from sqlalchemy import case, func, select

from numberdesk.calls.models import Call, CallRollup
from numberdesk.demo import seed
from numberdesk.numbers.models import PhoneNumber


def test_demo_fills_every_chart(app, alice) -> None:  # type: ignore[no-untyped-def]
    st = app.state.nd
    seed(st, alice.account_id)
    with st.db.session(write=False) as s:
        statuses = dict(s.execute(select(PhoneNumber.status, func.count()).where(
            PhoneNumber.account_id == alice.account_id).group_by(PhoneNumber.status)).all())
        total, missed = s.execute(select(func.count(), func.sum(case((Call.status != "completed", 1), else_=0))).where(
            Call.account_id == alice.account_id)).one()
        rolled = s.scalar(select(func.sum(CallRollup.calls)).where(CallRollup.account_id == alice.account_id,
                                                                   CallRollup.dim == "a"))
    assert statuses == {"active": 12, "pending": 1}
    assert total > 3000 and rolled == total
    assert 0.05 < missed / total < 0.15
    a = alice.get("/v1/analytics", params={"granularity": "day"}).json()
    assert a["total_calls"] > 3000 and 9 <= a["busy_hour"] <= 16    # business hours, in the account's zone
    assert sum(1 for p in a["series"] if p["calls"]) >= 28
    assert len(alice.get("/v1/agents").json()["data"]) == 4
    assert len(alice.get("/v1/pools").json()["data"]) == 1
