"""The ideas pages' forms (the limits their inputs show); the rules are the service's."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, StringConstraints

from accord.ideas.service import BODY_CHARS, COMMENT_CHARS, REPLY_CHARS, TITLE_CHARS


class ProposeForm(BaseModel):
    title: Annotated[str, StringConstraints(max_length=TITLE_CHARS)] = ""
    body: Annotated[str, StringConstraints(max_length=BODY_CHARS)] = ""


class CommentForm(BaseModel):
    comment: Annotated[str, StringConstraints(max_length=COMMENT_CHARS)] = ""


class BoardForm(BaseModel):
    title: Annotated[str, StringConstraints(max_length=120)] = ""
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
    topic_id: str = ""


class StatusForm(BaseModel):
    status: str = ""
    reply: Annotated[str, StringConstraints(max_length=REPLY_CHARS)] = ""
