"""What the conversation APIs accept and return."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from accord.conversations.files import MAX_FILES, Upload
from accord.conversations.threads import MAX_BODY_CHARS, SUBJECT_CHARS
from accord.core.validation import LINE, Line, Text

Subject = Annotated[Line, Field(max_length=SUBJECT_CHARS)]
Body = Annotated[Text, Field(max_length=MAX_BODY_CHARS)]


class AttachmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: Annotated[Line, Field(min_length=1, max_length=200)]
    content_base64: Annotated[str, LINE] = Field(description="The file's bytes, base64-encoded.")

    @field_validator("content_base64")
    @classmethod
    def _base64(cls, value: str) -> str:
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("is not valid base64") from None
        return value

    def upload(self) -> Upload:
        return Upload(filename=self.filename, data=base64.b64decode(self.content_base64))


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Body = ""
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=MAX_FILES)


class BrandMessageIn(MessageIn):
    close: bool = Field(default=False, description="Close the thread once the reply is sent.")


class BrandThreadIn(MessageIn):
    person_id: uuid.UUID
    subject: Subject | None = None


class PersonThreadIn(MessageIn):
    brand_id: uuid.UUID
    subject: Subject | None = None


class ThreadPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["open", "closed"] | None = None
    assigned_member_id: uuid.UUID | None = Field(
        default=None, description="A member of your brand; null to unassign."
    )


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Body = ""


class SavedReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[Line, Field(max_length=200)]
    body: Annotated[Text, Field(max_length=20_000)]


class AttachmentOut(BaseModel):
    id: uuid.UUID
    filename: str
    content_type: str
    size: int


class MessageOut(BaseModel):
    id: uuid.UUID
    thread_id: uuid.UUID
    author: str
    member_id: uuid.UUID | None
    via: str
    body: str
    original: str | None = Field(description="An e-mail reply's text as received.")
    created_at: datetime
    attachments: list[AttachmentOut]


class PersonMessageOut(BaseModel):
    id: uuid.UUID
    thread_id: uuid.UUID
    author: str
    via: str
    body: str
    original: str | None
    created_at: datetime
    attachments: list[AttachmentOut]


class ThreadOut(BaseModel):
    id: uuid.UUID
    person_id: uuid.UUID
    subject: str
    status: str
    waiting_on: str
    started_by: str
    assigned_member_id: uuid.UUID | None
    unread: int = Field(description="The person's messages no member has read yet.")
    message_count: int
    last_message_at: datetime
    last_preview: str
    first_response_seconds: int | None
    resolution_seconds: int | None
    created_at: datetime
    closed_at: datetime | None


class ThreadSummary(BaseModel):
    """A thread as the inbox lists it."""

    id: uuid.UUID
    person_id: uuid.UUID
    person_name: str
    subject: str
    status: str
    waiting_on: str
    unread: int
    last_message_at: datetime
    last_author: str
    preview: str
    assigned_member_id: uuid.UUID | None


class PersonThreadOut(BaseModel):
    id: uuid.UUID
    brand_id: uuid.UUID
    subject: str
    status: str
    unread: int = Field(description="The brand's messages you have not read yet.")
    message_count: int
    last_message_at: datetime
    last_preview: str
    created_at: datetime


class NoteOut(BaseModel):
    id: uuid.UUID
    thread_id: uuid.UUID
    member_id: uuid.UUID | None
    body: str
    created_at: datetime


class SavedReplyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    body: str
    created_at: datetime


class ServiceTimesOut(BaseModel):
    days: int
    answered: int
    first_response_seconds: float | None
    resolved: int
    resolution_seconds: float | None
