"""The file format of the bulk consent import (`accord.relationships.consent_import`): its
columns, one row as typed, and the check that turns a row into an `ImportRow` or the sentence
naming the column that refuses it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from accord.core.db import utcnow
from accord.core.error_text import field_path, sentence
from accord.core.validation import Email, Line
from accord.relationships.vocabulary import GRANTABLE, Channel, Purpose

COLUMNS = (
    "email",
    "purpose",
    "channels",
    "topics",
    "source",
    "collected_at",
    "ip",
    "form_url",
    "double_opt_in",
    "confirmed_at",
    "notice_version",
)
REQUIRED = ("email", "source", "collected_at")
_SPLIT = re.compile(r"[\s;,|]+")
_YES = {"yes", "y", "true", "1", "confirmed"}
_NO = {"", "no", "n", "false", "0"}


_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_EMAIL: TypeAdapter[str] = TypeAdapter(Email)


@lru_cache(maxsize=4096)
def _domain(domain: str) -> str | None:
    """The normalised domain of a valid address at `domain`, or None (full check, cached:
    a file has many addresses and few domains)."""
    try:
        return _EMAIL.validate_python(f"x@{domain}").rpartition("@")[2]
    except ValidationError:
        return None


def email_of(value: str) -> str:
    """`accord.core.validation.Email`, with its answer for the common case (a plain ASCII
    local part at a domain seen before) found without parsing the domain again."""
    value = value.strip()
    local, at, domain = value.rpartition("@")
    if at and len(value) <= 254 and len(local) <= 64 and _ATOM.fullmatch(local):
        normalised = _domain(domain)
        if normalised is not None:
            return f"{local}@{normalised}".lower()
    return _EMAIL.validate_python(value)


def _words(value: str) -> list[str]:
    return [w for w in _SPLIT.split(value.strip()) if w]


class ImportRow(BaseModel):
    """One row of the file, as typed."""

    model_config = ConfigDict(extra="ignore")

    email: Annotated[Line, Field(max_length=320)]
    purpose: Purpose = Purpose.marketing
    channels: list[Channel] = Field(default_factory=lambda: [Channel.email])
    topics: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list)
    source: Annotated[Line, Field(min_length=1, max_length=100)]
    collected_at: datetime
    ip: Annotated[Line, Field(max_length=45)] = ""
    form_url: HttpUrl | None = None
    double_opt_in: bool = False
    confirmed_at: datetime | None = None
    notice_version: Annotated[Line, Field(max_length=64)] | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return email_of(value)

    @field_validator("purpose", mode="before")
    @classmethod
    def _purpose(cls, value: Any) -> Any:
        return value.strip().lower() or Purpose.marketing.value if isinstance(value, str) else value

    @field_validator("channels", mode="before")
    @classmethod
    def _channels(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [w.lower() for w in _words(value)] or [Channel.email.value]
        return value

    @field_validator("topics", mode="before")
    @classmethod
    def _topics(cls, value: Any) -> Any:
        return _words(value) if isinstance(value, str) else value

    @field_validator("form_url", "confirmed_at", "notice_version", mode="before")
    @classmethod
    def _empty(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("double_opt_in", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> Any:
        if isinstance(value, str):
            word = value.strip().lower()
            if word in _YES:
                return True
            if word in _NO:
                return False
            raise ValueError("Write yes or no")
        return value

    @field_validator("collected_at", "confirmed_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def parse(line: int, raw: dict[str, str]) -> ImportRow | str:
    """The row, or the reason it is refused (a sentence that names the column)."""
    values = {k: (v or "") for k, v in raw.items() if k in COLUMNS}
    for name in REQUIRED:
        if not values.get(name, "").strip():
            return f"{name}: this column is empty"
    try:
        row = ImportRow.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        return f"{field_path(first['loc'])}: {sentence(first)}"
    if row.purpose not in GRANTABLE:
        return f"purpose: '{row.purpose.value}' is not granted (it comes with the relationship)"
    if not row.ip.strip() and row.form_url is None:
        return "ip, form_url: give the IP address or the form's URL the consent came from"
    if row.collected_at > utcnow() + timedelta(minutes=5):
        return "collected_at: consent cannot be collected in the future"
    if row.confirmed_at is not None and row.confirmed_at < row.collected_at:
        return "confirmed_at: the confirmation comes before the consent"
    return row
