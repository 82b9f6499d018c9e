"""SMS segments and encodings (GSM 03.38): literal counts at every edge."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.sms.segments import BASIC, EXTENSION, GSM7, UCS2, count

EMOJI = "\U0001f600"


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", GSM7, 0, 0),
        ("Hello", GSM7, 5, 1),
        ("a" * 160, GSM7, 160, 1),
        ("a" * 161, GSM7, 161, 2),
        ("a" * 306, GSM7, 306, 2),
        ("a" * 307, GSM7, 307, 3),
        ("a" * 1530, GSM7, 1530, 10),
        ("a" * 1531, GSM7, 1531, 11),
        ("€" * 80, GSM7, 160, 1),  # the extension table: two septets each
        ("€" * 81, GSM7, 162, 2),
        ("{}[]~^|\\", GSM7, 16, 1),
        # An escape pair never straddles two parts: 306 septets, three parts.
        ("a" * 152 + "€" + "a" * 152, GSM7, 306, 3),
        ("Café Größe Ñandù è ù ì ò Ø Å Æ ß É Ä Ö Ü § ¿ ¡ £ $ ¥ @ Δ", GSM7, 56, 1),
        ("ç", UCS2, 1, 1),  # only the capital Ç is in the basic set
        ("ú", UCS2, 1, 1),  # ù is, ú is not
        ("It\u2019s", UCS2, 4, 1),  # a curly apostrophe forces UCS-2
        ("En\u2013dash", UCS2, 7, 1),
        ("ç" * 70, UCS2, 70, 1),
        ("ç" * 71, UCS2, 71, 2),
        ("ç" * 134, UCS2, 134, 2),
        ("ç" * 135, UCS2, 135, 3),
        (EMOJI * 35, UCS2, 70, 1),  # an emoji is a surrogate pair: two units
        (EMOJI * 36, UCS2, 72, 2),
        # A surrogate pair never straddles two parts: 134 units, three parts.
        ("a" * 66 + EMOJI + "a" * 66, UCS2, 134, 3),
        ("a" * 669 + "ç", UCS2, 670, 10),
        ("a" * 670 + "ç", UCS2, 671, 11),
    ],
)
def test_count(text: str, encoding: str, units: int, segments: int) -> None:
    counted = count(text)
    assert (counted.encoding, counted.units, counted.segments) == (encoding, units, segments)
    assert counted.characters == len(text)
    assert counted.too_long is (segments > 10)


def test_the_characters_that_force_ucs2_are_named_once() -> None:
    text = "It\u2019s \u201cgreat\u201d \u2013 really\u2019"
    assert count(text).unicode_characters == ("\u2019", "\u201c", "\u201d", "\u2013")
    assert count("plain € text").unicode_characters == ()


def test_remaining_is_what_fits_before_another_segment() -> None:
    assert count("a" * 150).remaining == 10
    assert count("a" * 161).remaining == 153 - 8
    assert count("ç" * 60).remaining == 10


def test_the_alphabets_have_their_sizes() -> None:
    assert len(BASIC) == 127  # 128 positions, less the escape
    assert len(EXTENSION) == 10


@given(st.text(alphabet=[*sorted(BASIC | EXTENSION), "ç", EMOJI], max_size=2000))
def test_segments_never_fewer_than_units_allow(text: str) -> None:
    counted = count(text)
    single, part = (160, 153) if counted.encoding == GSM7 else (70, 67)
    if counted.units <= single:
        assert counted.segments == (1 if text else 0)
    else:
        # At least the plain division; at most one more per part (a pair pushed along).
        assert -(-counted.units // part) <= counted.segments <= -(-counted.units // (part - 1))
