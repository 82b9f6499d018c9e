"""Field types shared by every domain's schemas.

Every text field of an input schema is one of `Line` (one line, trimmed: names, subjects,
anything that can end up in a header), `Text` (several lines, as typed: bodies), `TrimmedText`
(several lines, trimmed: descriptions, postal addresses), or a type built on them; add lengths
with `Field`, e.g. `Annotated[Line, Field(max_length=120)]`, and use `Annotated[str, LINE]`
for a line kept as typed (passwords). They refuse NUL and the other control characters with a
422 naming the field, the same on SQLite and PostgreSQL (`accord.core.text`).
`tests/core/test_text_fields.py` finds any text input of the API that does without them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    EmailStr,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from accord.core import text

_LOCALE = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$")
# The JSON schema's name for the check, so that the OpenAPI document (and the test that looks
# for unchecked text fields) can tell a checked field from a plain string.
JSON_MARK = "x-accord-text"


@dataclass(frozen=True)
class TextCheck:
    """Annotated metadata: the value must be text (`one_line`: and a single line)."""

    one_line: bool

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        found = handler(schema)
        found[JSON_MARK] = "line" if self.one_line else "text"
        return found

    def _check(self, value: Any) -> Any:
        if isinstance(value, str):
            wrong = text.problem(value, one_line=self.one_line)
            if wrong is not None:
                raise PydanticCustomError(text.ERROR_TYPE, wrong)
        return value


LINE = TextCheck(one_line=True)
TEXT = TextCheck(one_line=False)

# Constraints after a validator apply after it, so the trimming comes first: `min_length=1`
# then refuses a value of spaces.
Line = Annotated[str, StringConstraints(strip_whitespace=True), LINE]
Text = Annotated[str, TEXT]
TrimmedText = Annotated[str, StringConstraints(strip_whitespace=True), TEXT]


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


TimeZone = Annotated[str, LINE, AfterValidator(_time_zone)]
Locale = Annotated[str, LINE, Field(max_length=35), AfterValidator(_locale)]
Email = Annotated[EmailStr, LINE, AfterValidator(_lower), Field(max_length=320)]
# ISO 3166-1 alpha-2; empty means none.
Country = Annotated[str, LINE, AfterValidator(_country)]
DisplayName = Annotated[Line, Field(max_length=120)]
