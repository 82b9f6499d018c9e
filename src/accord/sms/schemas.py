"""What the SMS API accepts and returns."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from accord.core.validation import Line, Text, TrimmedText

HELP_MAX = 320


class NumberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: Annotated[Line, Field(min_length=1, max_length=32)] = Field(
        description="E.164: a + and the country code, e.g. +12025550123."
    )
    label: Annotated[Line, Field(max_length=120)] = ""


class NumberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: str
    label: str
    created_at: datetime


class SmsSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    help_text: Annotated[TrimmedText, Field(min_length=1, max_length=HELP_MAX)] = Field(
        description="What a person gets back when they text HELP."
    )


class SmsSettingsOut(BaseModel):
    help_text: str
    sending_number: str | None = Field(
        description="The number texts go from: the brand's first, else Accord's own."
    )


class SegmentsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[Text, Field(max_length=5000)]
    marketing: bool = Field(
        default=True,
        description="Count the brand's name and 'Reply STOP to opt out' the channel adds.",
    )


class SegmentsOut(BaseModel):
    encoding: str = Field(description="GSM-7, or UCS-2 when a character is outside GSM 03.38.")
    characters: int
    units: int = Field(description="Septets (GSM-7, extension characters count 2) or UTF-16 units.")
    segments: int
    remaining: int = Field(description="Units left in the last segment.")
    max_segments: int
    too_long: bool
    unicode_characters: list[str] = Field(description="The characters that forced UCS-2.")
    body: str = Field(description="The text as it goes out, with what the channel adds.")


class ReplyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    person_id: uuid.UUID | None
    from_number: str
    to_number: str
    kind: str = Field(description="stop, stop_all, start, help or other.")
    outcome: str
    body: str
    received_at: datetime


class ReplyPage(BaseModel):
    items: list[ReplyOut]
    next_cursor: str | None
