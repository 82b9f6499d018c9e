"""The rules of conversations: who may open a thread, who may write, and what each message
changes on its thread (status, whose turn, unread counts, service times).

Conversations are transactional: no marketing consent is needed, but a brand may open a thread
only with someone whose relationship with it is active or paused and who has not asked for no
contact; a person may write to any brand they have such a relationship with. A person's reply
to a closed thread reopens it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Uuid, bindparam, select
from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.conversations import events, files
from accord.conversations.models import PREVIEW_CHARS, Attachment, Message, Note, Thread
from accord.core.db import utcnow
from accord.core.errors import Conflict, InvalidInput, NotFound
from accord.relationships import service as relationships

MAX_BODY_CHARS = 20_000
SUBJECT_CHARS = 200
VIA = frozenset({"portal", "console", "api", "email", "sms"})
NO_THREAD = "No such conversation."


@dataclass(frozen=True)
class Written:
    """A message as its author gave it: text, files, and for e-mail the text as received."""

    body: str
    files: Sequence[files.CheckedFile] = ()
    original: str | None = None


def clean_body(body: str, *, has_files: bool, field: str = "body") -> str:
    text = body.replace("\r\n", "\n").strip()
    if not text and not has_files:
        raise InvalidInput("Write a message (it is empty).", field=field)
    if len(text) > MAX_BODY_CHARS:
        raise InvalidInput(
            f"A message may be at most {MAX_BODY_CHARS:,} characters ({len(text):,} given).",
            field=field,
        )
    return text


def clean_subject(subject: str | None, body: str) -> str:
    text = " ".join((subject or "").split())
    if len(text) > SUBJECT_CHARS:
        raise InvalidInput(f"A subject may be at most {SUBJECT_CHARS} characters.", field="subject")
    if text:
        return text
    first = next((line.strip() for line in body.splitlines() if line.strip()), "")
    return (first[:77] + "…") if len(first) > 80 else (first or "Conversation")


def preview(body: str, file_count: int) -> str:
    text = " ".join(body.split())
    if not text:
        text = f"({file_count} attachment{'s' if file_count != 1 else ''})"
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


# --- who may write ------------------------------------------------------------------------------


def person_may_write(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID) -> None:
    state = relationships.state_of(session, person_id, brand_id)
    if state in ("active", "paused"):
        return
    if state == "ended":
        raise Conflict(
            "Your relationship with this brand has ended: follow it again to write to it.",
            field="brand_id",
        )
    raise Conflict(
        "You can write to a brand once you follow it (or accept its invitation).",
        field="brand_id",
    )


def brand_may_open(session: Session, brand_id: uuid.UUID, person_id: uuid.UUID) -> None:
    """A brand opens a thread only with a related person who has not ended the relationship
    or asked for no contact. Someone never related is a 404: no existence leak."""
    state = relationships.state_of(session, person_id, brand_id)
    if state is None or state == "invited":
        raise NotFound("No such person.", field="person_id")
    if state == "ended":
        raise Conflict(
            "This person has ended their relationship with you: you cannot write to them.",
            field="person_id",
        )
    if relationships.asked_no_contact(session, person_id):
        raise Conflict(
            "This person has asked not to be contacted: only they can start a conversation.",
            field="person_id",
        )


def brand_may_answer(session: Session, thread: Thread) -> None:
    if relationships.state_of(session, thread.person_id, thread.brand_id) in (
        None,
        "invited",
        "ended",
    ):
        raise Conflict(
            "This person has ended their relationship with you: the conversation is read-only.",
            field="body",
        )


# --- finding threads ------------------------------------------------------------------------------


def for_person(session: Session, person_id: uuid.UUID, thread_id: uuid.UUID) -> Thread:
    thread = session.get(Thread, thread_id)
    if thread is None or thread.person_id != person_id:
        raise NotFound(NO_THREAD)
    return thread


def for_brand(session: Session, brand_id: uuid.UUID, thread_id: uuid.UUID) -> Thread:
    thread = session.get(Thread, thread_id)
    if thread is None or thread.brand_id != brand_id:
        raise NotFound(NO_THREAD)
    return thread


def latest_open(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID) -> Thread | None:
    """The person's most recently active open thread with the brand."""
    return session.scalars(
        select(Thread)
        .where(Thread.person_id == person_id, Thread.brand_id == brand_id, Thread.status == "open")
        .order_by(Thread.last_message_at.desc(), Thread.id.desc())
        .limit(1)
    ).first()


# --- writing --------------------------------------------------------------------------------------


def _new_thread(
    session: Session,
    brand_id: uuid.UUID,
    person_id: uuid.UUID,
    subject: str,
    started_by: str,
    now: datetime,
) -> Thread:
    thread = Thread(
        brand_id=brand_id,
        person_id=person_id,
        subject=subject,
        status="open",
        waiting_on="brand" if started_by == "person" else "person",
        started_by=started_by,
        brand_unread=0,
        person_unread=0,
        message_count=0,
        last_message_at=now,
        last_author=started_by,
        last_preview="",
        created_at=now,
    )
    session.add(thread)
    session.flush()
    return thread


def _store(
    session: Session,
    thread: Thread,
    author: str,
    via: str,
    written: Written,
    member_id: uuid.UUID | None,
    now: datetime,
) -> Message:
    if via not in VIA:
        raise ValueError(f"unknown channel of a message: {via}")
    message = Message(
        thread_id=thread.id,
        brand_id=thread.brand_id,
        person_id=thread.person_id,
        author=author,
        member_id=member_id,
        via=via,
        body=written.body,
        original=written.original,
        created_at=now,
    )
    session.add(message)
    session.flush()
    for f in written.files:
        session.add(
            Attachment(
                message_id=message.id,
                brand_id=thread.brand_id,
                person_id=thread.person_id,
                filename=f.filename,
                content_type=f.content_type,
                size=f.size,
                sha256=f.sha256,
                data=f.data,
                created_at=now,
            )
        )
    # Counters move in the UPDATE itself (x = x + 1), so two messages at once both count.
    thread.message_count = Thread.message_count + 1
    thread.last_message_at = now
    thread.last_author = author
    thread.last_preview = preview(written.body, len(written.files))
    return message


def add_person_message(
    session: Session, thread: Thread, written: Written, *, via: str, now: datetime | None = None
) -> Message:
    """The person writes: the thread is (again) open and waiting on the brand."""
    now = now or utcnow()
    person_may_write(session, thread.person_id, thread.brand_id)
    message = _store(session, thread, "person", via, written, None, now)
    _reopen(thread)
    thread.waiting_on = "brand"
    thread.brand_unread = Thread.brand_unread + 1
    thread.person_unread = 0
    session.flush()
    session.refresh(thread)
    events.message_received(session, thread, message, len(written.files))
    return message


def add_brand_message(
    session: Session,
    thread: Thread,
    written: Written,
    *,
    via: str,
    member_id: uuid.UUID | None,
    close: bool = False,
    now: datetime | None = None,
) -> Message:
    """The brand writes: waiting on the person; the first answer sets the first-response time."""
    now = now or utcnow()
    brand_may_answer(session, thread)
    message = _store(session, thread, "brand", via, written, member_id, now)
    if thread.first_response_at is None and thread.started_by == "person":
        thread.first_response_at = now
        thread.first_response_seconds = _seconds(thread.created_at, now)
    thread.waiting_on = "person"
    thread.person_unread = Thread.person_unread + 1
    thread.brand_unread = 0
    if close:
        _close(thread, now)
    else:
        _reopen(thread)
    session.flush()
    session.refresh(thread)
    return message


def start_by_person(
    session: Session,
    person_id: uuid.UUID,
    brand_id: uuid.UUID,
    subject: str | None,
    written: Written,
    *,
    via: str,
) -> tuple[Thread, Message]:
    person_may_write(session, person_id, brand_id)
    now = utcnow()
    thread = _new_thread(
        session, brand_id, person_id, clean_subject(subject, written.body), "person", now
    )
    return thread, add_person_message(session, thread, written, via=via, now=now)


def start_by_brand(
    session: Session,
    brand_id: uuid.UUID,
    person_id: uuid.UUID,
    subject: str | None,
    written: Written,
    *,
    via: str,
    member_id: uuid.UUID | None,
) -> tuple[Thread, Message]:
    brand_may_open(session, brand_id, person_id)
    now = utcnow()
    thread = _new_thread(
        session, brand_id, person_id, clean_subject(subject, written.body), "brand", now
    )
    message = add_brand_message(session, thread, written, via=via, member_id=member_id, now=now)
    return thread, message


def _seconds(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds()))


def _close(thread: Thread, now: datetime) -> None:
    thread.status = "closed"
    thread.closed_at = now
    thread.resolution_seconds = _seconds(thread.created_at, now)


def _reopen(thread: Thread) -> None:
    thread.status = "open"
    thread.closed_at = None
    thread.resolution_seconds = None


def set_status(session: Session, thread: Thread, status: str) -> Thread:
    if status not in ("open", "closed"):
        raise InvalidInput("status is open or closed.", field="status")
    if status == thread.status:
        return thread
    if status == "closed":
        _close(thread, utcnow())
    else:
        _reopen(thread)
    session.flush()
    return thread


def assign(session: Session, thread: Thread, member_id: uuid.UUID | None) -> Thread:
    """Give the thread to a member of its brand (another brand's member is a 404), or to
    nobody."""
    if member_id is not None:
        brands.get_member(session, thread.brand_id, member_id)
    thread.assigned_member_id = member_id
    session.flush()
    return thread


def read_by_brand(session: Session, thread: Thread) -> None:
    if thread.brand_unread:
        thread.brand_unread = 0
        session.flush()


def read_by_person(session: Session, thread: Thread) -> None:
    if thread.person_unread:
        thread.person_unread = 0
        session.flush()


def add_note(session: Session, thread: Thread, body: str, member_id: uuid.UUID | None) -> Note:
    note = Note(
        thread_id=thread.id,
        brand_id=thread.brand_id,
        member_id=member_id,
        body=clean_body(body, has_files=False),
    )
    session.add(note)
    session.flush()
    return note


# Built once: a thread's pages read its messages and notes on every view.
_MESSAGES = (
    select(Message)
    .where(Message.thread_id == bindparam("thread", type_=Uuid()))
    .order_by(Message.created_at, Message.id)
)
_NOTES = (
    select(Note)
    .where(Note.thread_id == bindparam("thread", type_=Uuid()))
    .order_by(Note.created_at, Note.id)
)


def messages(session: Session, thread: Thread) -> list[Message]:
    return list(session.scalars(_MESSAGES, {"thread": thread.id}))


def notes(session: Session, thread: Thread) -> list[Note]:
    return list(session.scalars(_NOTES, {"thread": thread.id}))


@dataclass(frozen=True)
class FileInfo:
    id: uuid.UUID
    message_id: uuid.UUID
    filename: str
    content_type: str
    size: int


# Built once: a thread's pages list its messages' attachments on every view.
_ATTACHMENTS = (
    select(
        Attachment.id,
        Attachment.message_id,
        Attachment.filename,
        Attachment.content_type,
        Attachment.size,
    )
    .where(Attachment.message_id.in_(bindparam("messages", type_=Uuid(), expanding=True)))
    .order_by(Attachment.created_at, Attachment.filename)
)


def attachments_of(
    session: Session, message_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[FileInfo]]:
    """Each message's attachments (without their bytes)."""
    found: dict[uuid.UUID, list[FileInfo]] = {}
    if not message_ids:
        return found
    rows = session.execute(_ATTACHMENTS, {"messages": list(message_ids)}).all()
    for row in rows:
        found.setdefault(row.message_id, []).append(FileInfo(*row))
    return found


def attachment_for_person(
    session: Session, person_id: uuid.UUID, attachment_id: uuid.UUID
) -> Attachment:
    found = session.get(Attachment, attachment_id)
    if found is None or found.person_id != person_id:
        raise NotFound("No such attachment.")
    return found


def attachment_for_brand(
    session: Session, brand_id: uuid.UUID, attachment_id: uuid.UUID
) -> Attachment:
    found = session.get(Attachment, attachment_id)
    if found is None or found.brand_id != brand_id:
        raise NotFound("No such attachment.")
    return found
