"""Webhook API shapes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from accord.core.validation import Line

Url = Annotated[Line, Field(min_length=1, max_length=2000)]
Description = Annotated[Line, Field(max_length=200)]
TypeName = Annotated[Line, Field(min_length=1, max_length=100)]


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Url = Field(description="https:// (outside dev), resolving to a public address")
    event_types: list[TypeName] = Field(default_factory=list, max_length=50)
    description: Description = ""
    is_channel: bool = Field(
        default=False, description="Also deliver messages on the `webhook` channel here."
    )


class EndpointChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Url | None = None
    event_types: list[TypeName] | None = Field(default=None, max_length=50)
    description: Description | None = None
    is_channel: bool | None = None
    enabled: bool | None = None


class EndpointOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    url: str
    description: str
    event_types: list[str]
    is_channel: bool
    enabled: bool
    disabled_at: datetime | None
    disabled_reason: str | None
    failing_since: datetime | None
    last_success_at: datetime | None
    created_at: datetime


class EndpointWithSecret(EndpointOut):
    secret: str = Field(description="The Standard Webhooks secret (whsec_…) to verify with.")


class EventTypeOut(BaseModel):
    name: str
    description: str


class DeliveryOut(BaseModel):
    id: int
    event_id: str
    event_type: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_status: int | None
    last_response: str | None
    last_error: str | None
    succeeded_at: datetime | None
    payload: dict[str, Any]


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_before: int | None = Field(description="Pass as ?before= for the next page.")


class TestOut(BaseModel):
    event_id: str
