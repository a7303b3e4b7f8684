"""Response shapes of billing."""

from __future__ import annotations

from pydantic import BaseModel

from numberdesk.billing.service import ChargeLine, Summary
from numberdesk.kit.money import money
from numberdesk.kit.schemas import MoneyOut
from numberdesk.kit.times import rfc3339


class ChargeOut(BaseModel):
    number_id: str
    phone_number: str
    friendly_name: str
    department: str | None
    cycle: str
    amount: MoneyOut
    charged_at: str


class ChargesPage(BaseModel):
    cycle: str
    data: list[ChargeOut]
    total: list[MoneyOut]
    next_cursor: str | None = None


class DepartmentCostOut(BaseModel):
    department: str | None
    amount: MoneyOut
    numbers: int


class SummaryOut(BaseModel):
    cycle: str
    charges_to_date: list[MoneyOut]
    projected_next_cycle: list[MoneyOut]
    projected_numbers: int
    by_department: list[DepartmentCostOut]


def totals_out(totals: dict[str, int]) -> list[dict[str, str]]:
    return [money(a, c) for c, a in sorted(totals.items())]


def charge_out(x: ChargeLine) -> dict[str, object]:
    return {"number_id": x.number_id, "phone_number": x.phone_number, "friendly_name": x.friendly_name,
            "department": x.department, "cycle": x.cycle, "amount": money(x.amount_minor, x.currency),
            "charged_at": rfc3339(x.charged_at)}


def summary_out(s: Summary) -> dict[str, object]:
    return {
        "cycle": s.cycle, "charges_to_date": totals_out(s.charges_to_date),
        "projected_next_cycle": totals_out(s.projected_next_cycle), "projected_numbers": s.projected_numbers,
        "by_department": [{"department": d.department, "amount": money(d.amount_minor, d.currency),
                           "numbers": d.numbers} for d in s.by_department],
    }
