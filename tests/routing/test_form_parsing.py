"""The webhook's form parser reads exactly what ``urllib.parse.parse_qsl`` reads (the
signature is computed over the decoded values, so any difference would refuse good requests)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from hypothesis import given
from hypothesis import strategies as st

from numberdesk.routing.signatures import TwilioParams, parse_form

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)


@given(st.lists(st.tuples(text, text), max_size=12))
def test_same_pairs_as_parse_qsl(pairs: list[tuple[str, str]]) -> None:
    body = urlencode(pairs).encode()
    assert parse_form(body) == parse_qsl(body.decode(), keep_blank_values=True)


@given(st.binary(max_size=60))
def test_same_pairs_on_any_bytes(body: bytes) -> None:
    assert parse_form(body) == parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)


def test_repeated_names_are_all_signed() -> None:
    p = TwilioParams(parse_form(b"Digits=1&Digits=2&To=%2B14155550100&Empty="))
    assert p.getall("Digits") == ["1", "2"] and p["Digits"] == "2"
    assert p["To"] == "+14155550100" and p["Empty"] == ""
