"""Field validators shared by every domain's schemas."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated
from zoneinfo import available_timezones

from pydantic import AfterValidator, EmailStr, Field, StringConstraints
from pydantic_core import PydanticCustomError

_LOCALE = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$")


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _time_zone(value: str) -> str:
    if value not in _zones():
        # A type of our own, so that pages can say "choose from the list" (plain_errors).
        raise PydanticCustomError(
            "time_zone",
            "'{value}' is not an IANA time zone (for example Europe/Berlin)",
            {"value": value[:64]},
        )
    return value


def _locale(value: str) -> str:
    if not _LOCALE.match(value):
        raise PydanticCustomError(
            "locale",
            "'{value}' is not a language tag (for example en or pt-BR)",
            {"value": value[:64]},
        )
    return value


def _country(value: str) -> str | None:
    import phonenumbers

    value = value.strip().upper()
    if not value:
        return None
    if len(value) != 2 or value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"'{value}' is not a country code (two letters, for example US or DE)")
    return value


def _lower(value: str) -> str:
    return value.strip().lower()


TimeZone = Annotated[str, AfterValidator(_time_zone)]
Locale = Annotated[str, Field(max_length=35), AfterValidator(_locale)]
Email = Annotated[EmailStr, AfterValidator(_lower), Field(max_length=320)]
# ISO 3166-1 alpha-2; empty means none.
Country = Annotated[str, AfterValidator(_country)]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)]
