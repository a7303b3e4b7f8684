"""Identifiers: prefixed, the same shape whether made one at a time or in bulk."""

import re

from numberdesk.kit.ids import new_id, new_ids

SHAPE = re.compile(r"call_[0-9a-hjkmnp-tv-z]{22}")  # Crockford base32: no i, l, o, u


def test_bulk_ids_have_the_single_id_shape_and_are_distinct() -> None:
    one = new_id("call")
    many = new_ids("call", 500)
    assert SHAPE.fullmatch(one)
    assert all(SHAPE.fullmatch(x) for x in many)
    assert len(set(many)) == 500
    assert new_ids("call", 0) == []
