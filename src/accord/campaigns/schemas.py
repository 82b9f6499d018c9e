"""What the campaign and message APIs accept and return."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from accord.analytics.service import SEGMENTS
from accord.core.validation import Line, Text

MAX_HTML = 200_000
MAX_TEXT = 100_000

# One line: a line break in a Subject header would break the message.
Subject = Annotated[Line, Field(min_length=1, max_length=300)]
HHMM = Annotated[Line, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
Name = Annotated[Line, Field(min_length=1, max_length=200)]
Body = Annotated[Text, Field(min_length=1, max_length=MAX_TEXT)]
Html = Annotated[Text, Field(max_length=MAX_HTML)]


class Audience(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["all", "people", "filter", "segment", "idea_voters"] = "all"
    people: list[uuid.UUID] = Field(default_factory=list, max_length=100_000)
    filter: dict[Annotated[Line, Field(max_length=64)], Annotated[Line, Field(max_length=200)]] = (
        Field(default_factory=dict)
    )
    segment: Annotated[Line, Field(max_length=64)] | None = Field(
        default=None,
        description="With kind 'segment': an RFM segment name, e.g. 'champions' or 'at_risk'.",
    )
    idea_id: uuid.UUID | None = Field(
        default=None,
        description="With kind 'idea_voters': the idea whose voters are the audience (only "
        "those who granted you profiling: a vote is a signal about a person only then).",
    )

    @model_validator(mode="after")
    def _complete(self) -> Audience:
        if self.kind == "people" and not self.people:
            raise ValueError("an audience of kind 'people' needs at least one person id")
        if self.kind == "filter" and not self.filter:
            raise ValueError("an audience of kind 'filter' needs at least one key")
        if self.kind == "segment" and self.segment not in SEGMENTS:
            names = ", ".join(SEGMENTS)
            raise ValueError(f"an audience of kind 'segment' needs a segment, one of: {names}")
        if self.kind == "idea_voters" and self.idea_id is None:
            raise ValueError("an audience of kind 'idea_voters' needs an idea_id")
        return self


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["now", "at", "local"] = "now"
    at: datetime | None = None
    local_time: HHMM | None = None
    local_date: Annotated[Line, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")] | None = None

    @model_validator(mode="after")
    def _complete(self) -> Schedule:
        if self.kind == "at" and self.at is None:
            raise ValueError("a schedule of kind 'at' needs 'at'")
        if self.kind == "local" and (self.local_time is None or self.local_date is None):
            raise ValueError("a schedule of kind 'local' needs local_date and local_time")
        return self


ContentChannel = Literal["email", "sms", "push", "inapp", "webhook"]


class ChannelContent(BaseModel):
    """A channel's own content in a campaign on several channels: an SMS shorter than the
    e-mail, a push title of its own. Complete in itself: no HTML part unless given."""

    model_config = ConfigDict(extra="forbid")

    subject: Subject | None = Field(
        default=None,
        description="The e-mail's subject, the push or in-app title; none on sms. Left out: "
        "the campaign's subject.",
    )
    text: Body
    html: Html | None = Field(default=None, description="E-mail and webhook only.")


Contents = dict[ContentChannel, ChannelContent]
CONTENTS_DESCRIPTION = (
    "Content of their own for some of the campaign's channels (e.g. a short SMS beside the "
    "e-mail); every other channel gets `subject`, `text` and `html`. On sms, the text is what "
    "counts against the 10 segments."
)


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    topic_id: uuid.UUID
    channel: Literal["email", "sms", "push", "inapp", "webhook", "postal"] = Field(
        default="email",
        description="The channel the campaign goes out on (postal: exported, not sent).",
    )
    channels: list[Literal["email", "sms", "push", "inapp", "webhook"]] | None = Field(
        default=None,
        min_length=1,
        max_length=5,
        description="Several channels, in order (replaces `channel`): see `channel_mode`.",
    )
    channel_mode: Literal["preferred", "all"] = Field(
        default="preferred",
        description="preferred: one message per person, on the first of `channels` the gate "
        "allows in the person's own order (falling back down it); all: on every allowed one.",
    )

    @model_validator(mode="after")
    def _distinct_channels(self) -> CampaignCreate:
        if self.channels is not None and len(set(self.channels)) != len(self.channels):
            raise ValueError("Each channel may appear once.")
        return self

    subject: Subject | None = Field(
        default=None, description="Needed on every channel but sms (a text has no subject)."
    )
    text: Body = Field(
        description="For sms: at most 10 segments as sent, with the brand's name and (on "
        "marketing) 'Reply STOP to opt out' the channel adds."
    )
    html: Html | None = None
    contents: Contents | None = Field(default=None, description=CONTENTS_DESCRIPTION)
    audience: Audience = Field(default_factory=Audience)
    schedule: Schedule = Field(default_factory=Schedule)
    expires_at: datetime | None = None


class CampaignUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    subject: Subject | None = None
    text: Body | None = None
    html: Html | None = None
    contents: Contents | None = Field(
        default=None, description=CONTENTS_DESCRIPTION + " Given, it replaces them all ({} clears)."
    )
    audience: Audience | None = None
    schedule: Schedule | None = None
    expires_at: datetime | None = None


class CampaignOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    topic_id: uuid.UUID
    channel: str
    channels: list[str]
    channel_mode: str
    subject: str
    contents: dict[str, dict[str, str | None]] = Field(
        default_factory=dict, description="The channels' own content, by channel."
    )
    state: str
    schedule_kind: str
    send_at: datetime | None
    local_time: str | None
    local_date: str | None
    expires_at: datetime | None
    audience_kind: str
    audience_counts: dict[str, int]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    sms: SmsSegments | None = Field(
        default=None, description="For an sms campaign: its text as sent, counted."
    )


class SmsCountIn(BaseModel):
    """The composer's live count: the text typed so far, and the topic chosen (if any)."""

    model_config = ConfigDict(extra="forbid")

    text: Annotated[Text, Field(max_length=MAX_TEXT)] = ""
    topic_id: uuid.UUID | None = None


class SmsSegments(BaseModel):
    """An SMS campaign's text as it goes out to a sample person, counted."""

    encoding: str = Field(description="GSM-7, or UCS-2 when a character is outside GSM 03.38.")
    segments: int
    max_segments: int
    units: int = Field(description="Septets (GSM-7) or UTF-16 units (UCS-2).")
    characters: int
    remaining: int = Field(description="Units left in the last segment.")
    unicode_characters: list[str] = Field(description="The characters that forced UCS-2.")
    body: str = Field(description="The text as sent to a sample person (Ada Lovelace).")


class Preview(BaseModel):
    """How the audience splits at send time: sent now, deferred (legal or quiet hours), kept
    out."""

    at: datetime
    eligible: int
    deferred: int
    deferred_by: dict[str, int] = Field(
        default_factory=dict,
        description="The deferred, by reason: legal_window (the law's hours where the person "
        "is), quiet_hours (the person's own).",
    )
    excluded: dict[str, int] = Field(description="People kept out, by reason code.")
    total: int
    by_channel: dict[str, dict[str, int]] = Field(
        default_factory=dict,
        description="Several channels: per channel, the people it would reach (`chosen`: in "
        "preferred mode, those for whom it is the channel picked), and the reasons.",
    )


class TestSend(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_id: uuid.UUID | None = None


class MessageCreate(BaseModel):
    """A transactional message to one person; its purpose comes from the topic."""

    model_config = ConfigDict(extra="forbid")

    topic_id: uuid.UUID
    person_id: uuid.UUID
    subject: Subject
    text: Body
    html: Html | None = None


class MessageOut(BaseModel):
    id: int
    state: str
    reason: str | None
    message_id: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class SavedSegmentOut(BaseModel):
    """A saved segment: its rule (a filter on shared facts or an RFM segment) and its size
    before the gate checks each person: people matching a filter now, or customers in an RFM
    segment at the latest fit (`size_as_of`); null when not known (no fit, or too few)."""

    id: uuid.UUID
    name: str
    audience: dict[str, Any]
    size: int | None
    size_as_of: Literal["now", "last_fit"]
    created_at: datetime
