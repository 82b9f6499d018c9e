"""What the console's thread page shows, read as the columns it shows.

The page reads a thread's messages, notes, attachments and saved replies on every view: each
statement is built once with its thread or brand bound and run on the session's cursor
(`core.direct`), in the order of the ORM reads it stands for (`threads.messages`,
`threads.notes`, `threads.attachments_of`, `saved.listing`), without making objects of them.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Uuid, bindparam, select
from sqlalchemy.orm import Session

from accord.conversations.models import Attachment, Message, Note, SavedReply
from accord.conversations.threads import FileInfo
from accord.core.direct import Direct
from accord.core.errors import NotFound
from accord.people import service as people

_THREAD = bindparam("thread", type_=Uuid())
_M, _N, _A = Message.__table__.c, Note.__table__.c, Attachment.__table__.c
_S = SavedReply.__table__.c
_MESSAGES = Direct(
    select(_M.id, _M.author, _M.member_id, _M.via, _M.body, _M.original, _M.created_at)
    .where(_M.thread_id == _THREAD)
    .order_by(_M.created_at, _M.id)
)
_NOTES = Direct(
    select(_N.member_id, _N.body, _N.created_at)
    .where(_N.thread_id == _THREAD)
    .order_by(_N.created_at, _N.id)
)
_ATTACHMENTS = Direct(
    select(_A.id, _A.message_id, _A.filename, _A.content_type, _A.size)
    .join_from(Attachment.__table__, Message.__table__, _M.id == _A.message_id)
    .where(_M.thread_id == _THREAD)
    .order_by(_A.created_at, _A.filename)
)
_SAVED = Direct(
    select(_S.id, _S.title, _S.body)
    .where(_S.brand_id == bindparam("brand", type_=Uuid()))
    .order_by(_S.title)
)


def messages(session: Session, thread_id: uuid.UUID) -> list[Any]:
    """(id, author, member_id, via, body, original, created_at), oldest first."""
    return _MESSAGES.all(session, thread=thread_id)


def notes(session: Session, thread_id: uuid.UUID) -> list[Any]:
    """(member_id, body, created_at), oldest first."""
    return _NOTES.all(session, thread=thread_id)


def attachments(session: Session, thread_id: uuid.UUID) -> dict[uuid.UUID, list[FileInfo]]:
    """Each of the thread's messages' attachments (without their bytes)."""
    found: dict[uuid.UUID, list[FileInfo]] = {}
    for row in _ATTACHMENTS.all(session, thread=thread_id):
        found.setdefault(row.message_id, []).append(FileInfo(*row))
    return found


def saved_replies(session: Session, brand_id: uuid.UUID) -> list[Any]:
    """The brand's saved replies (id, title, body), by title."""
    return _SAVED.all(session, brand=brand_id)


def person_display_name(session: Session, person_id: uuid.UUID) -> str | None:
    """The person's display name (`people.get_person`'s, a 404 when there is no one)."""
    row = people.shown(session, person_id)
    if row is None:
        raise NotFound("No such person.")
    display_name: str | None = row.display_name
    return display_name
