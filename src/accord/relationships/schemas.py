"""What the relationship and consent APIs accept and return."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from accord.core.validation import Email, Line, Text, TrimmedText
from accord.relationships.vocabulary import Channel, Purpose

Slug = Annotated[Line, StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")]
HHMM = Annotated[Line, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
TopicName = Annotated[Line, Field(min_length=1, max_length=120)]
Description = Annotated[TrimmedText, Field(min_length=1, max_length=1000)]
SharedKey = Annotated[Line, Field(min_length=1, max_length=64)]
SharedValue = Annotated[Text, Field(max_length=500)]


class TopicCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: Slug
    name: TopicName
    description: Description = Field(
        description="Plain words shown to people when they choose topics."
    )
    purpose: Purpose


class TopicUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: TopicName | None = None
    description: Description | None = None


class TopicOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    slug: str
    name: str
    description: str
    purpose: Purpose
    retired_at: datetime | None
    created_at: datetime


class Evidence(BaseModel):
    """How a brand collected consent itself. Personal values are kept only as keyed hashes."""

    model_config = ConfigDict(extra="forbid")

    collected_at: datetime
    method: Annotated[Line, Field(min_length=1, max_length=100)]
    notice_version: Annotated[Line, Field(min_length=1, max_length=64)]
    form_url: HttpUrl
    ip: Annotated[Line, Field(min_length=3, max_length=45)]


class ConsentRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    purpose: Purpose
    channels: list[Channel] = Field(default_factory=list)
    topics: list[uuid.UUID] = Field(default_factory=list)
    evidence: Evidence

    @model_validator(mode="after")
    def _grantable(self) -> ConsentRecord:
        if self.purpose == Purpose.transactional:
            raise ValueError("transactional needs no consent; it comes with the relationship")
        return self


class Invite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    display_name: Annotated[Line, Field(max_length=120)] = ""


class RecordResult(BaseModel):
    person_id: uuid.UUID
    status: str = Field(description="'granted', or 'pending' until the person confirms by e-mail")


class InviteResult(BaseModel):
    person_id: uuid.UUID
    state: str


class BrandPreferences(BaseModel):
    """A person's effective preferences for the calling brand."""

    person_id: uuid.UUID
    state: str
    paused_until: datetime | None
    purposes: dict[str, str]
    channels: dict[str, list[str]]
    topics: list[uuid.UUID]
    brand_cap: int
    shared: dict[str, Any]


class RelationshipOut(BaseModel):
    brand_id: uuid.UUID
    brand_name: str
    brand_slug: str
    state: str
    paused_until: datetime | None
    purposes: dict[str, str]
    channels: dict[str, list[str]]
    topics: list[uuid.UUID]
    brand_cap: int


class PreferenceChange(BaseModel):
    """One change a person makes to a relationship; give exactly the fields to change."""

    model_config = ConfigDict(extra="forbid")

    purposes: dict[Purpose, bool] = Field(default_factory=dict)
    channels: dict[Purpose, dict[Channel, bool]] = Field(default_factory=dict)
    topics: dict[uuid.UUID, bool] = Field(default_factory=dict)
    brand_cap: Annotated[int, Field(ge=0, le=100)] | None = None
    shared: dict[SharedKey, SharedValue] | None = None


class PauseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    until: datetime | None = Field(default=None, description="Null pauses indefinitely.")


class EndIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    erase: bool = Field(default=False, description="Also erase what this brand holds about you.")


class GlobalPreferencesIn(BaseModel):
    """Quiet hours, global cap, do-not-contact and pause-all; omitted fields stay as they are.
    Clear the quiet hours with `"quiet_start": null, "quiet_end": null`."""

    model_config = ConfigDict(extra="forbid")

    quiet_start: HHMM | None = None
    quiet_end: HHMM | None = Field(default=None, validate_default=True)
    global_cap: Annotated[int, Field(ge=0, le=500)] | None = None
    do_not_contact: bool | None = None
    paused_until: datetime | None = None

    @field_validator("quiet_end")
    @classmethod
    def _quiet_pair(cls, end: str | None, info: ValidationInfo) -> str | None:
        start = info.data.get("quiet_start")
        if (start is None) != (end is None) and "quiet_start" in info.data:
            raise ValueError("give both the start and the end of the quiet hours, or neither")
        if end is not None and end == start:
            raise ValueError("quiet hours cannot start and end at the same time")
        return end


class LedgerEventOut(BaseModel):
    id: int
    person_id: uuid.UUID
    seq: int
    hash: str
    action: str
    occurred_at: datetime
    event: dict[str, Any]


ImportValue = Annotated[Line, Field(max_length=2000)]


class ImportItem(BaseModel):
    """One opt-in to import, with its evidence; the columns of `accord relationships import`."""

    model_config = ConfigDict(extra="forbid")

    email: Annotated[Line, Field(max_length=320)]
    source: Annotated[Line, Field(max_length=100)] = Field(
        description="How the consent was collected (e.g. 'newsletter form')."
    )
    collected_at: Annotated[Line, Field(max_length=40)] = Field(
        description="When it was collected (ISO 8601; UTC if no offset)."
    )
    purpose: Annotated[Line, Field(max_length=16)] = "marketing"
    channels: Annotated[Line, Field(max_length=100)] = Field(
        default="email", description="Channels, separated by spaces or semicolons."
    )
    topics: ImportValue = Field(default="", description="Topic slugs, separated by spaces.")
    ip: Annotated[Line, Field(max_length=45)] = ""
    form_url: ImportValue = ""
    double_opt_in: Annotated[Line, Field(max_length=10)] = Field(
        default="no", description="Whether the person completed a double opt-in: yes or no."
    )
    confirmed_at: Annotated[Line, Field(max_length=40)] = ""
    notice_version: Annotated[Line, Field(max_length=64)] = ""


class ImportBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rows: list[ImportItem] = Field(min_length=1, max_length=5000)


class ImportReject(BaseModel):
    line: int = Field(description="The row's line in the file (or its position in the batch).")
    reason: str


class ImportResult(BaseModel):
    rows: int
    granted: int = Field(description="Imported with a completed double opt-in: in effect now.")
    requested: int = Field(description="Imported without one: a confirmation e-mail is queued.")
    already: int = Field(description="Already recorded: nothing written.")
    rejected: int
    rejects: list[ImportReject]
