"""The inbox's API shapes."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    brand_id: uuid.UUID
    campaign_id: uuid.UUID | None
    title: str
    body: str
    url: str | None
    created_at: datetime
    read_at: datetime | None
    archived_at: datetime | None


class UnreadOut(BaseModel):
    unread: int


class ItemChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    read: bool | None = None
    archived: bool | None = None


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    person_id: uuid.UUID
    minutes: int = Field(default=60, ge=1, le=24 * 60, description="How long the token works.")


class TokenOut(BaseModel):
    token: str
    expires_at: datetime


class ReadRateOut(BaseModel):
    campaign_id: uuid.UUID | None
    delivered: int
    read: int
    archived: int
    read_rate: float
