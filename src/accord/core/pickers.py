"""The lists behind the pages' pickers: time zones, languages and countries with friendly names.

A page shows them as a plain `<select>` (a small script adds a search box and picks the
browser's time zone and language on a fresh form); a value that is not in the list, sent by
hand, is refused beside the field ("Choose your language from the list").
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

import phonenumbers
import pycountry

# Regional variants people expect to find by name; every two-letter ISO 639-1 language too.
VARIANTS = {
    "en-GB": "English (United Kingdom)",
    "en-US": "English (United States)",
    "pt-BR": "Portuguese (Brazil)",
    "pt-PT": "Portuguese (Portugal)",
    "es-MX": "Spanish (Mexico)",
    "fr-CA": "French (Canada)",
    "de-AT": "German (Austria)",
    "de-CH": "German (Switzerland)",
    "zh-Hans": "Chinese (Simplified)",
    "zh-Hant": "Chinese (Traditional)",
}
OTHER_REGIONS = {"XK": "Kosovo", "AC": "Ascension Island", "TA": "Tristan da Cunha"}


def _offset(zone: str, now: datetime) -> str:
    delta = now.astimezone(ZoneInfo(zone)).utcoffset()
    minutes = int(delta.total_seconds() // 60) if delta is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


@lru_cache(maxsize=4)
def time_zone_options(day: str) -> tuple[tuple[str, str], ...]:
    """(IANA name, "Berlin (Europe) · UTC+01:00") for every zone, offsets as on `day`."""
    now = datetime.fromisoformat(day + "T12:00:00+00:00")
    found = []
    for zone in sorted(available_timezones()):
        if zone.startswith(("Etc/", "SystemV/")) or zone in {"localtime", "Factory"}:
            label = zone
        else:
            area, _, place = zone.partition("/")
            label = f"{place.replace('_', ' ').replace('/', ', ')} ({area})" if place else zone
        found.append((zone, f"{label} · {_offset(zone, now)}"))
    return tuple(found)


@lru_cache(maxsize=1)
def language_options() -> tuple[tuple[str, str], ...]:
    """(language tag, "German (de)") for every ISO 639-1 language and common variants."""
    found = {
        lang.alpha_2: lang.name for lang in pycountry.languages if getattr(lang, "alpha_2", None)
    }
    found.update(VARIANTS)
    return tuple(sorted(((tag, f"{name} ({tag})") for tag, name in found.items()), key=_by_text))


@lru_cache(maxsize=1)
def language_tags() -> frozenset[str]:
    return frozenset(tag for tag, _ in language_options())


def _country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return OTHER_REGIONS.get(code, code)
    return str(getattr(country, "common_name", None) or country.name)


@lru_cache(maxsize=2)
def country_options(calling_codes: bool = False) -> tuple[tuple[str, str], ...]:
    """(ISO 3166-1 code, "Germany (DE)" or "Germany +49") for every region with phone numbers."""
    found = []
    for code in phonenumbers.SUPPORTED_REGIONS:
        name = _country_name(code)
        if calling_codes:
            found.append((code, f"{name} +{phonenumbers.country_code_for_region(code)}"))
        else:
            found.append((code, f"{name} ({code})"))
    return tuple(sorted(found, key=_by_text))


def country_codes() -> frozenset[str]:
    return frozenset(phonenumbers.SUPPORTED_REGIONS)


def _by_text(option: tuple[str, str]) -> str:
    return option[1].casefold()


def with_current(options: tuple[tuple[str, str], ...], value: str) -> list[tuple[str, str]]:
    """The options, and the stored value first if the list lacks it (an older free-text one)."""
    if not value or any(code == value for code, _ in options):
        return list(options)
    return [(value, value), *options]
