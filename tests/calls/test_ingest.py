"""Batch ingest of call records (all or nothing, errors by index), the call list and its CSV."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from numberdesk.audit.models import AuditEvent
from numberdesk.calls.models import Call, CallRollup
from tests.calls.helpers import call, ingest


def _count(app, model) -> int:  # type: ignore[no-untyped-def]
    with app.state.nd.db.session(write=False) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_ingest_list_page_and_export(app, alice, bob) -> None:  # type: ignore[no-untyped-def]
    agent = alice.agent()
    a = alice.buy(agent_id=agent["id"])
    b = alice.buy()
    calls = [
        call(a["phone_number"], "2026-05-01T10:00:00Z", talk=125),
        call(a["national_format"], "2026-05-01T11:00:00Z", "no_answer"),   # any form a person types
        call(b["phone_number"], "2026-05-02T09:30:00Z", "busy", caller="anonymous"),
        call(b["phone_number"], "2026-05-03T12:00:00Z", direction="outbound", talk=30),
    ]
    ingest(alice, calls)
    r = alice.get("/v1/calls", role="viewer")
    assert r.status_code == 200
    data = r.json()["data"]
    assert [c["started_at"] for c in data] == ["2026-05-03T12:00:00Z", "2026-05-02T09:30:00Z",
                                               "2026-05-01T11:00:00Z", "2026-05-01T10:00:00Z"]
    first = data[-1]
    assert first["id"].startswith("call_") and first["number_id"] == a["id"] and first["number"] == a["phone_number"]
    assert (first["agent_id"], first["status"], first["duration_seconds"]) == (agent["id"], "completed", 125)
    assert (first["answered_at"], first["ended_at"]) == ("2026-05-01T10:00:10Z", "2026-05-01T10:02:15Z")
    assert data[1]["from"] == "anonymous" and data[1]["agent_id"] is None and data[1]["duration_seconds"] == 0
    assert data[0]["direction"] == "outbound" and data[0]["from"] == b["phone_number"]

    # Keyset pages.
    seen, cursor = [], None
    while True:
        page = alice.get("/v1/calls", params={"limit": 3, **({"cursor": cursor} if cursor else {})}).json()
        seen += [c["id"] for c in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [c["id"] for c in data]
    assert alice.get("/v1/calls", params={"cursor": "garbage"}).status_code == 422

    f = alice.get("/v1/calls", params={"number_id": a["id"], "from": "2026-05-01T10:30:00Z"}).json()["data"]
    assert [c["status"] for c in f] == ["no_answer"]
    f = alice.get("/v1/calls", params={"from": "2026-05-02", "to": "2026-05-03"}).json()["data"]
    assert [c["status"] for c in f] == ["busy"]

    r = alice.get("/v1/calls.csv", params={"number_id": a["id"]}, role="viewer")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(x["number"], x["status"], x["duration_seconds"]) for x in rows] == [
        (a["phone_number"], "no_answer", "0"), (a["phone_number"], "completed", "125")]

    # Bob sees none of it.
    assert bob.get("/v1/calls").json()["data"] == []
    assert bob.get("/v1/calls", params={"number_id": a["id"]}).status_code == 404
    assert bob.get("/v1/calls.csv", params={"number_id": a["id"]}).status_code == 404
    assert len(bob.get("/v1/calls.csv").text.strip().splitlines()) == 1


def test_a_bad_record_rejects_the_batch_naming_each_by_index(app, alice, bob) -> None:  # type: ignore[no-untyped-def]
    mine = alice.buy()["phone_number"]
    theirs = bob.buy()["phone_number"]
    good = call(mine, "2026-05-01T10:00:00Z")
    no_answer_time = {**call(mine, "2026-05-01T10:00:00Z")}
    del no_answer_time["answered_at"]
    batch = [
        good,
        call(theirs, "2026-05-01T10:00:00Z"),                                   # 1: another account's number
        call("+14155550000", "2026-05-01T10:00:00Z"),                           # 2: nobody's number
        no_answer_time,                                                          # 3: completed, never answered
        {**call(mine, "2026-05-01T10:00:00Z", "busy"), "answered_at": "2026-05-01T10:00:05Z"},  # 4
        {**good, "ended_at": "2026-05-01T09:00:00Z"},                            # 5: ends before it starts
        {**good, "from": "not a phone"},                                         # 6
        call(mine, "2031-01-01T00:00:00Z"),                                      # 7: in the future
        good,
    ]
    r = alice.post("/v1/calls", {"calls": batch}, role="admin")
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "validation_error"
    got = {(e["index"], e["field"]) for e in body["errors"]}
    assert got == {(1, "calls.1.number"), (2, "calls.2.number"), (3, "calls.3.answered_at"),
                   (4, "calls.4.answered_at"), (5, "calls.5.ended_at"), (6, "calls.6.from"),
                   (7, "calls.7.started_at")}
    assert body["error_count"] == 7 and "No calls were stored" in body["detail"]
    assert (_count(app, Call), _count(app, CallRollup)) == (0, 0)

    # Shape errors are named by index too, before anything is looked at.
    for bad, field in (({**good, "started_at": "2026-05-01T10:00:00"}, "calls.1.started_at"),
                       ({**good, "duration": 5}, "calls.1.duration"),
                       ({**good, "status": "ringing"}, "calls.1.status")):
        r = alice.post("/v1/calls", {"calls": [good, bad]}, role="admin")
        assert r.status_code == 422
        assert field in {e["field"] for e in r.json()["errors"]}, r.json()
    assert alice.post("/v1/calls", {"calls": []}, role="admin").status_code == 422
    assert alice.post("/v1/calls", {"calls": [good] * 10_001}, role="admin").status_code == 422
    assert _count(app, Call) == 0


def test_roles_and_retries(app, alice) -> None:  # type: ignore[no-untyped-def]
    mine = alice.buy()["phone_number"]
    batch = {"calls": [call(mine, "2026-05-01T10:00:00Z")]}
    assert alice.post("/v1/calls", batch, role="member").status_code == 403
    assert alice.post("/v1/calls", batch, role="viewer").status_code == 403
    key = {"Idempotency-Key": "import-2026-05-01"}
    first = alice.post("/v1/calls", batch, role="admin", headers=key)
    again = alice.post("/v1/calls", batch, role="admin", headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("idempotent-replayed") == "true"
    assert _count(app, Call) == 1
    # One audit row for the one batch that was stored.
    with app.state.nd.db.session(write=False) as s:
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.account_id == alice.account_id)))
    assert actions.count("calls.ingest") == 1
