"""Naming templates for friendly names (``{department}-{area_code}-{seq}``): pure, no I/O.

The account setting is checked with ``template_regex`` (an unknown field is a 422),
new numbers are named with ``render``, and the inventory audit flags the names a
template does not allow.
"""

from __future__ import annotations

import re

from numberdesk.errors import ValidationFailed

TEMPLATE_FIELDS = {
    "department": r"[A-Za-z0-9 _.&/-]+?",
    "area_code": r"\d{1,5}",
    "country": r"[A-Z]{2}",
    "type": r"(?:local|toll_free|mobile)",
    "locality": r".+?",
    "seq": r"\d+",
}
_FIELD = re.compile(r"\{(\w+)\}")


def template_regex(template: str) -> re.Pattern[str]:
    """The friendly names a template allows, e.g. ``{department}-{area_code}-{seq}``."""
    out, pos = [], 0
    for m in _FIELD.finditer(template):
        out.append(re.escape(template[pos:m.start()]))
        if m.group(1) not in TEMPLATE_FIELDS:
            raise ValidationFailed.field(
                "naming_template", f"unknown field {{{m.group(1)}}}; use {', '.join(TEMPLATE_FIELDS)}")
        out.append(TEMPLATE_FIELDS[m.group(1)])
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("^" + "".join(out) + "$")


def render(template: str, values: dict[str, str]) -> str | None:
    """The template filled in (at most 200 characters); None when it cannot be."""
    try:
        return template.format(**values)[:200]
    except (KeyError, IndexError, ValueError):
        return None
