"""The conversation pages' forms: what each accepts (limits the inputs show come from here);
the rules themselves are the service's (an empty message may still carry a file)."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, StringConstraints

from accord.conversations.threads import MAX_BODY_CHARS, SUBJECT_CHARS

Text = Annotated[str, StringConstraints(max_length=MAX_BODY_CHARS)]
Subject = Annotated[str, StringConstraints(max_length=SUBJECT_CHARS)]


class StartForm(BaseModel):
    brand_id: str
    subject: Subject = ""
    body: Text = ""

    def brand(self) -> uuid.UUID | None:
        try:
            return uuid.UUID(self.brand_id)
        except ValueError:
            return None


class ReplyForm(BaseModel):
    body: Text = ""


class BrandReplyForm(BaseModel):
    body: Text = ""
    close: str = ""


class BrandStartForm(BaseModel):
    person: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=320)]
    subject: Subject = ""
    body: Text = ""


class NoteForm(BaseModel):
    note: Text = ""


class AssignForm(BaseModel):
    member_id: str = ""


class StatusForm(BaseModel):
    status: str


class SavedReplyForm(BaseModel):
    title: Annotated[str, StringConstraints(max_length=120)] = ""
    body: Annotated[str, StringConstraints(max_length=10_000)] = ""
