"""What the people API and forms accept and return."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from accord.core.validation import Country, DisplayName, Email, Locale, TimeZone


class SignUp(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    display_name: DisplayName = ""
    time_zone: TimeZone = "UTC"
    locale: Locale = "en"


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email


class ProfileUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: DisplayName | None = None
    time_zone: TimeZone | None = None
    locale: Locale | None = None
    country: Country | None = Field(
        default=None,
        description="Where you live (two letters, e.g. US); empty clears it. The laws on "
        "texting and e-mail there apply when your phone number does not say.",
    )


class PersonOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    display_name: str
    time_zone: str
    locale: str
    country: str | None = None
    created_at: datetime


class Accepted(BaseModel):
    status: str = "accepted"
    detail: str
