"""What the SMS channel adds to every brand text, like the e-mail footer: the brand's name in
front, and on marketing "Reply STOP to opt out" (CTIA; FCC 24-24 wants a way out in every
text). Plain GSM-7 characters only, so it never forces a text into UCS-2."""

from __future__ import annotations

from accord.sms.segments import Count, count

STOP_LINE = "Reply STOP to opt out"


def body(brand_name: str, text: str, *, marketing: bool) -> str:
    lines = [f"{brand_name}: {text.strip()}"]
    if marketing:
        lines.append(STOP_LINE)
    return "\n".join(lines)


def measure(brand_name: str, text: str, *, marketing: bool) -> tuple[str, Count]:
    full = body(brand_name, text, marketing=marketing)
    return full, count(full)
