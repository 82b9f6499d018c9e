"""Dates and times as a person reads them: in their time zone, in their language's format.

Babel is not a dependency, and pages show numbers and a few month abbreviations only, so the
formats of the common languages are kept here as data (from CLDR's medium date and short
time); any other language gets the ISO form, which everyone can read. `when` is the Jinja
filter every page uses: a person's pages format in their zone and locale (set on the request
by the person's sign-in dependency as `request.state.viewer`), other pages in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import pass_context
from jinja2.runtime import Context

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
ISO = ("{yyyy}-{mm}-{dd}", " ", "{HH}:{MI}")
# Language (or language-region) -> (date, separator, time); fields are filled by `_parts`.
FORMATS = {
    "en": ("{mon} {d}, {yyyy}", ", ", "{h}:{MI} {ampm}"),
    "en-gb": ("{d} {mon} {yyyy}", ", ", "{HH}:{MI}"),
    "en-ie": ("{d} {mon} {yyyy}", ", ", "{HH}:{MI}"),
    "en-au": ("{d} {mon} {yyyy}", ", ", "{h}:{MI} {ampm}"),
    "en-nz": ("{d} {mon} {yyyy}", ", ", "{h}:{MI} {ampm}"),
    "en-in": ("{d} {mon} {yyyy}", ", ", "{h}:{MI} {ampm}"),
    "de": ("{dd}.{mm}.{yyyy}", ", ", "{HH}:{MI}"),
    "fr": ("{dd}/{mm}/{yyyy}", " ", "{HH}:{MI}"),
    "fr-ca": ("{yyyy}-{mm}-{dd}", " ", "{HH} h {MI}"),
    "es": ("{d}/{m}/{yyyy}", ", ", "{H}:{MI}"),
    "it": ("{dd}/{mm}/{yyyy}", ", ", "{HH}:{MI}"),
    "pt": ("{dd}/{mm}/{yyyy}", ", ", "{HH}:{MI}"),
    "nl": ("{d}-{m}-{yyyy}", " ", "{HH}:{MI}"),
    "sv": ISO,
    "da": ("{dd}.{mm}.{yyyy}", " ", "{HH}.{MI}"),
    "nb": ("{dd}.{mm}.{yyyy}", ", ", "{HH}:{MI}"),
    "no": ("{dd}.{mm}.{yyyy}", ", ", "{HH}:{MI}"),
    "fi": ("{d}.{m}.{yyyy}", " ", "{H}.{MI}"),
    "pl": ("{dd}.{mm}.{yyyy}", ", ", "{HH}:{MI}"),
    "cs": ("{d}. {m}. {yyyy}", " ", "{H}:{MI}"),
    "ru": ("{dd}.{mm}.{yyyy}", ", ", "{HH}:{MI}"),
    "uk": ("{dd}.{mm}.{yyyy}", ", ", "{HH}:{MI}"),
    "tr": ("{dd}.{mm}.{yyyy}", " ", "{HH}:{MI}"),
    "ja": ("{yyyy}/{mm}/{dd}", " ", "{H}:{MI}"),
    "zh": ("{yyyy}/{m}/{d}", " ", "{HH}:{MI}"),
    "ko": ("{yyyy}. {m}. {d}.", " ", "{HH}:{MI}"),
}


@dataclass(frozen=True)
class Viewer:
    """Whose page it is, for formatting: an IANA time zone and a language tag."""

    zone: str = "UTC"
    locale: str = ""  # no language: the ISO form (a member's console, which keeps UTC)


def pattern_for(locale: str) -> tuple[str, str, str]:
    """The pattern of `locale` ("en-GB", "de_AT", "pt"), else its language's, else ISO."""
    tag = locale.strip().lower().replace("_", "-")
    return FORMATS.get(tag) or FORMATS.get(tag.split("-", 1)[0]) or ISO


@lru_cache(maxsize=1024)
def zone_info(name: str) -> ZoneInfo:
    """`ZoneInfo(name)`, held: zoneinfo keeps only the last 8 zones it made, so a request that
    goes over more (a campaign's gate, one per zone in use) re-read their files every time.
    An unknown name raises as ZoneInfo does (and is not kept)."""
    return ZoneInfo(name)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _parts(moment: datetime) -> dict[str, Any]:
    hour12 = moment.hour % 12 or 12
    return {
        "yyyy": f"{moment.year:04d}",
        "m": moment.month,
        "mm": f"{moment.month:02d}",
        "mon": MONTHS[moment.month - 1],
        "d": moment.day,
        "dd": f"{moment.day:02d}",
        "H": moment.hour,
        "HH": f"{moment.hour:02d}",
        "h": hour12,
        "MI": f"{moment.minute:02d}",
        "ampm": "AM" if moment.hour < 12 else "PM",
    }


def format_moment(value: datetime | date | None, zone: str = "UTC", locale: str = "en") -> str:
    """`value` (UTC if naive) in `zone`, in `locale`'s format, with the zone's abbreviation:
    "Dec 5, 2026, 9:10 PM EST", "05.12.2026, 21:10 CET"; a date alone without the time."""
    if value is None:
        return ""
    day, sep, time = pattern_for(locale)
    if not isinstance(value, datetime):
        return day.format(**_parts(datetime(value.year, value.month, value.day, tzinfo=UTC)))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(_zone(zone))
    return f"{(day + sep + time).format(**_parts(local))} {local.tzname() or zone}"


@pass_context
def when(context: Context, value: datetime | date | None) -> str:
    """The Jinja filter: in the viewer's zone and format on a person's page, else UTC."""
    request = context.get("request")
    viewer = getattr(getattr(request, "state", None), "viewer", None)
    if not isinstance(viewer, Viewer):
        viewer = Viewer()
    return format_moment(value, viewer.zone, viewer.locale)
