"""The ledger's fast canonical encoding of event bodies is byte for byte RFC 8785 (`rfc8785`)
over every value an event body can hold: strings (any text, non-ASCII and control characters
included), integers, null, lists and objects with ASCII keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from accord.consent import ledger

texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
keys = st.text(st.characters(max_codepoint=127), max_size=12)
scalars = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | texts
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(keys, values, max_size=8))
def test_fast_encoding_is_rfc8785(body: dict[str, Any]) -> None:
    assert ledger.canonical_event(body) == ledger.canonical(body)


def test_an_event_body() -> None:
    body = {
        "v": 1, "subject": "9f0c", "seq": 3, "prev": "0" * 64, "at": "2026-01-01T00:00:00.000000Z",
        "brand": None, "action": "import_grant", "scope": {"purpose": "marketing", "channel": None,
        "topic": None}, "source": "import", "policy": "privacy \u2013 2025\u2028\x01\"\\",
        "evidence": {"method": "Formulaire d'été 🌞"}, "value": {"channels": ["email"]},
    }  # fmt: skip
    assert ledger.canonical_event(body) == ledger.canonical(body)


# Anything a caller might put in an event's value: floats, any text, any key, big integers.
anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(anything)
def test_what_the_fast_encoding_is_trusted_with_it_encodes_as_rfc8785(value: Any) -> None:
    # `append` takes the fast path only for parts `_plain` accepts.
    if ledger._plain(value):
        assert ledger.canonical_event({"value": value}) == ledger.canonical({"value": value})


def test_floats_and_lone_surrogates_take_the_reference_path() -> None:
    assert not ledger._plain({"x": 1.5})
    assert not ledger._plain("\ud800")
    assert not ledger._plain(2**60)
    assert ledger._plain({"channels": ["email"], "cap": 3, "note": "été"})


@given(st.datetimes(timezones=st.timezones()))
def test_an_events_own_time_is_stamped_as_timestamp_does(moment: datetime) -> None:
    assert ledger.stamp(moment) == ledger.timestamp(moment)
