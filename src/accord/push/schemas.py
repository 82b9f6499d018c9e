"""The Push API's subscription JSON, as `PushSubscription.toJSON()` gives it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from accord.core.validation import Line

Text = Annotated[Line, Field(min_length=1, max_length=200)]


class Keys(BaseModel):
    model_config = ConfigDict(extra="ignore")
    p256dh: Text
    auth: Text


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="ignore")  # expirationTime and whatever browsers add
    endpoint: Annotated[Line, Field(min_length=1, max_length=320)]
    keys: Keys


class SubscriptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    endpoint: str
    created_at: datetime
    suppressed_reason: str | None


class PublicKey(BaseModel):
    public_key: str
