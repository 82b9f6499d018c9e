"""What the people API and forms accept and return."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from accord.core.validation import DisplayName, Email, Locale, TimeZone


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


class PersonOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    display_name: str
    time_zone: str
    locale: str
    created_at: datetime


class Accepted(BaseModel):
    status: str = "accepted"
    detail: str
