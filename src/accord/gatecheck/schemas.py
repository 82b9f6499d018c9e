"""The gate check API's shapes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from accord.core.validation import Email, Line
from accord.relationships.vocabulary import Channel, Purpose

MAX_ITEMS = 10_000
TopicRef = Annotated[Line, Field(min_length=1, max_length=100)]


class CheckItem(BaseModel):
    """One question: may this brand message this person on this channel about this topic?
    The person by Accord id or by the e-mail address the brand knows them by."""

    model_config = ConfigDict(extra="forbid")
    person_id: uuid.UUID | None = None
    email: Email | None = None
    channel: Channel
    topic: TopicRef = Field(description="The topic's id or slug.")
    purpose: Purpose | None = Field(
        default=None, description="Optional; when given it must be the topic's purpose."
    )

    @model_validator(mode="after")
    def _one_person(self) -> CheckItem:
        if (self.person_id is None) == (self.email is None):
            raise ValueError("Give either person_id or email.")
        return self


class CheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[CheckItem] = Field(min_length=1, max_length=MAX_ITEMS)
    at: datetime | None = Field(
        default=None, description="The moment of sending (UTC); default now."
    )


class CheckAnswer(BaseModel):
    allowed: bool
    reason: str | None = Field(description="Why not (a gate reason code); null when allowed.")
    defer_until: datetime | None = Field(
        description="For legal_window and quiet_hours: the first moment the message may go."
    )


class CheckResponse(BaseModel):
    results: list[CheckAnswer] = Field(description="One answer per item, in the same order.")


class UsageDay(BaseModel):
    day: str
    calls: int
    items: int
