"""A cycle's charges as CSV, the same file for the API and the dashboard."""

from __future__ import annotations

import csv
import io

from numberdesk.billing.service import ChargeLine
from numberdesk.kit.money import to_decimal
from numberdesk.kit.times import rfc3339

CSV_COLUMNS = ("cycle", "number_id", "phone_number", "friendly_name", "department", "amount", "currency",
               "charged_at")


def _csv_cell(value: str) -> str:
    # A spreadsheet runs a cell that starts with = + - @ as a formula; names are user input.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def charges_csv(rows: list[ChargeLine]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for x in rows:
        w.writerow([x.cycle, x.number_id, x.phone_number, _csv_cell(x.friendly_name),
                    _csv_cell(x.department or ""), str(to_decimal(x.amount_minor, x.currency)), x.currency,
                    rfc3339(x.charged_at)])
    return buf.getvalue()
