"""Saved replies: a brand's ready answers, which a member puts into a reply and edits."""

from __future__ import annotations

import uuid

from sqlalchemy import Uuid, bindparam, select
from sqlalchemy.orm import Session

from accord.conversations.models import SavedReply
from accord.core.errors import Conflict, InvalidInput, NotFound

TITLE_CHARS = 120
BODY_CHARS = 10_000


# Built once: a thread's console page offers the brand's saved replies on every view.
_LISTING = (
    select(SavedReply)
    .where(SavedReply.brand_id == bindparam("brand", type_=Uuid()))
    .order_by(SavedReply.title)
)


def listing(session: Session, brand_id: uuid.UUID) -> list[SavedReply]:
    return list(session.scalars(_LISTING, {"brand": brand_id}))


def get(session: Session, brand_id: uuid.UUID, reply_id: uuid.UUID) -> SavedReply:
    found = session.get(SavedReply, reply_id)
    if found is None or found.brand_id != brand_id:
        raise NotFound("No such saved reply.")
    return found


def create(session: Session, brand_id: uuid.UUID, title: str, body: str) -> SavedReply:
    title = " ".join(title.split())
    body = body.replace("\r\n", "\n").strip()
    if not title:
        raise InvalidInput("Give the saved reply a title.", field="title")
    if len(title) > TITLE_CHARS:
        raise InvalidInput(f"A title may be at most {TITLE_CHARS} characters.", field="title")
    if not body:
        raise InvalidInput("Write the reply's text.", field="body")
    if len(body) > BODY_CHARS:
        raise InvalidInput(f"A saved reply may be at most {BODY_CHARS:,} characters.", field="body")
    taken = session.scalar(
        select(SavedReply.id).where(SavedReply.brand_id == brand_id, SavedReply.title == title)
    )
    if taken is not None:
        raise Conflict(f"A saved reply called '{title}' exists already.", field="title")
    reply = SavedReply(brand_id=brand_id, title=title, body=body)
    session.add(reply)
    session.flush()
    return reply


def delete(session: Session, brand_id: uuid.UUID, reply_id: uuid.UUID) -> None:
    session.delete(get(session, brand_id, reply_id))
    session.flush()
