"""How many SMS segments a text takes, and in which encoding (GSM 03.38).

A text goes as GSM-7 when every character is in the basic set or its extension table (an
extension character costs two septets: ESC and itself), else as UCS-2 (UTF-16 code units, an
emoji two). One message holds 160 septets or 70 units; a longer text is split into parts of
153 septets or 67 units (the rest of each part's 140 octets is the concatenation header), and
no part ends in the middle of an escape pair or a surrogate pair.
"""

from __future__ import annotations

from dataclasses import dataclass

# GSM 03.38 default alphabet, in table order (0x00-0x7F; 0x1B, the escape, left out).
BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table, reached through ESC: two septets each.
EXTENSION = frozenset("\f^{}\\[~]|€")

MAX_SEGMENTS = 10
GSM7, UCS2 = "GSM-7", "UCS-2"
SINGLE = {GSM7: 160, UCS2: 70}
PART = {GSM7: 153, UCS2: 67}


@dataclass(frozen=True)
class Count:
    """A text's encoding, its length in that encoding's units, and the segments it takes."""

    encoding: str
    characters: int
    units: int
    segments: int
    # Units still free in the last segment before another one is needed.
    remaining: int
    # The characters that forced UCS-2 (empty for GSM-7), so a writer can replace them.
    unicode_characters: tuple[str, ...] = ()

    @property
    def too_long(self) -> bool:
        return self.segments > MAX_SEGMENTS


def _cost(char: str, encoding: str) -> int:
    if encoding == GSM7:
        return 2 if char in EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def count(text: str) -> Count:
    outside = tuple(dict.fromkeys(c for c in text if c not in BASIC and c not in EXTENSION))
    encoding = UCS2 if outside else GSM7
    costs = [_cost(c, encoding) for c in text]
    units = sum(costs)
    if units <= SINGLE[encoding]:
        return Count(
            encoding, len(text), units, 1 if text else 0, SINGLE[encoding] - units, outside
        )
    size, segments, used = PART[encoding], 1, 0
    for cost in costs:
        if used + cost > size:  # a pair never straddles two parts
            segments, used = segments + 1, 0
        used += cost
    return Count(encoding, len(text), units, segments, size - used, outside)
