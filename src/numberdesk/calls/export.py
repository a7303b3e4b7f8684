"""Call records as CSV, for the API and the dashboard alike."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from fastapi.responses import StreamingResponse

from numberdesk.auth.context import Ctx
from numberdesk.calls import service
from numberdesk.calls.schemas import CSV_COLUMNS, call_out
from numberdesk.runtime import AppState

CHUNK_ROWS = 1000


def calls_csv(st: AppState, account_id: str, actor: str, role: str, f: service.CallFilter) -> StreamingResponse:
    """Every call matching ``f``, streamed 1,000 rows at a time.

    The request's transaction has ended by the time the body streams, so the rows
    are read in a read session of their own, for the same caller.
    """

    def rows() -> Iterator[str]:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(CSV_COLUMNS)
        with st.db.session(write=False) as s:
            ctx = Ctx(session=s, account_id=account_id, actor=actor, role=role, clock=st.clock,
                      settings=st.settings)
            for n, (c, e164) in enumerate(service.iter_calls(ctx, f), 1):
                out = call_out(c, e164)
                w.writerow([out[k] if out[k] is not None else "" for k in CSV_COLUMNS])
                if n % CHUNK_ROWS == 0:
                    yield buf.getvalue()
                    buf.seek(0)
                    buf.truncate()
        yield buf.getvalue()

    return StreamingResponse(rows(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="calls.csv"'})
