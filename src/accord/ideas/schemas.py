"""What the ideas APIs accept and return."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from accord.core.validation import Line, Text
from accord.ideas.service import BODY_CHARS, COMMENT_CHARS, REPLY_CHARS, TITLE_CHARS

BrandStatus = Literal["under_review", "planned", "in_progress", "shipped", "declined"]


class BoardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[Line, Field(max_length=120)] = ""
    description: Annotated[Text, Field(max_length=2000)] = ""
    topic_id: uuid.UUID | None = None


class BoardPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["open", "closed"] | None = None


class BoardOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    description: str
    topic_id: uuid.UUID | None
    status: str
    created_at: datetime


class IdeaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[Line, Field(max_length=TITLE_CHARS)] = ""
    body: Annotated[Text, Field(max_length=BODY_CHARS)] = ""


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: BrandStatus | None = None
    reply: Annotated[Text, Field(max_length=REPLY_CHARS)] | None = Field(
        default=None, description="The public answer, shown with the status and sent to voters."
    )


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Annotated[Text, Field(max_length=COMMENT_CHARS)] = ""


class IdeaOut(BaseModel):
    id: uuid.UUID
    board_id: uuid.UUID
    title: str
    body: str
    status: str
    reply: str | None
    votes: int
    created_at: datetime
    status_changed_at: datetime | None


class BrandIdeaOut(IdeaOut):
    person_id: uuid.UUID = Field(description="Who proposed it (a person who follows you).")


class PersonIdeaOut(IdeaOut):
    voted: bool = Field(description="Whether you voted for it.")
    mine: bool = Field(description="Whether you proposed it.")


class CommentOut(BaseModel):
    id: uuid.UUID
    idea_id: uuid.UUID
    author: Literal["person", "brand"]
    body: str
    created_at: datetime


class VotersOut(BaseModel):
    votes: int = Field(description="Every vote: a count only.")
    person_ids: list[uuid.UUID] = Field(
        description='The segment "voted for this idea": voters who granted you profiling.'
    )
