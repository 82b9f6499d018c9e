"""The conversations domain's public face: what pages, the API, the inbound endpoints and
other domains call. Every function works in the caller's transaction and never commits."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.conversations import files, inbound_mail, notify, reply_address, saved, threads
from accord.conversations.files import Upload
from accord.conversations.inbox import Filter, Row, ServiceTimes, page, service_times
from accord.conversations.models import Attachment, Message, Note, Thread
from accord.conversations.threads import Written
from accord.core.errors import AccordError
from accord.core.pagination import paginate
from accord.core.principals import BrandCaller
from accord.core.settings import Settings

# Other domains import only this module (tests/test_architecture.py): the `name as name`
# imports above are what it offers them from the domain's other modules, and these
# under a name that says what they do.
take_inbound_mail = inbound_mail.take
reply_address_for = reply_address.address_for

log = logging.getLogger("accord.conversations")

__all__ = [
    "Filter",
    "Row",
    "ServiceTimes",
    "Upload",
    "brand_reply",
    "page",
    "person_reply",
    "receive_sms",
    "service_times",
    "sms_reply",
    "start_brand_thread",
    "start_person_thread",
]


def _written(settings: Settings, body: str, uploads: Sequence[Upload]) -> Written:
    checked = files.check_all(list(uploads), max_bytes=settings.attachment_max_bytes)
    return Written(body=threads.clean_body(body, has_files=bool(checked)), files=checked)


def start_person_thread(
    session: Session,
    settings: Settings,
    person_id: uuid.UUID,
    brand_id: uuid.UUID,
    *,
    subject: str | None,
    body: str,
    uploads: Sequence[Upload] = (),
    via: str = "portal",
) -> tuple[Thread, Message]:
    """The person starts a conversation with a brand they follow."""
    threads.person_may_write(session, person_id, brand_id)
    written = _written(settings, body, uploads)
    return threads.start_by_person(session, person_id, brand_id, subject, written, via=via)


def person_reply(
    session: Session,
    settings: Settings,
    person_id: uuid.UUID,
    thread_id: uuid.UUID,
    *,
    body: str,
    uploads: Sequence[Upload] = (),
    via: str = "portal",
) -> Message:
    """The person answers; a closed thread opens again."""
    thread = threads.for_person(session, person_id, thread_id)
    written = _written(settings, body, uploads)
    return threads.add_person_message(session, thread, written, via=via)


def start_brand_thread(
    session: Session,
    settings: Settings,
    caller: BrandCaller,
    person_id: uuid.UUID,
    *,
    subject: str | None,
    body: str,
    uploads: Sequence[Upload] = (),
    via: str,
) -> tuple[Thread, Message]:
    """The brand writes first, to a related person who may be contacted."""
    threads.brand_may_open(session, caller.brand_id, person_id)
    written = _written(settings, body, uploads)
    thread, message = threads.start_by_brand(
        session, caller.brand_id, person_id, subject, written, via=via, member_id=caller.member_id
    )
    notify.brand_message(session, settings, thread, message, len(written.files))
    return thread, message


def brand_reply(
    session: Session,
    settings: Settings,
    caller: BrandCaller,
    thread_id: uuid.UUID,
    *,
    body: str,
    uploads: Sequence[Upload] = (),
    via: str,
    close: bool = False,
) -> Message:
    thread = threads.for_brand(session, caller.brand_id, thread_id)
    threads.brand_may_answer(session, thread)
    written = _written(settings, body, uploads)
    message = threads.add_brand_message(
        session, thread, written, via=via, member_id=caller.member_id, close=close
    )
    notify.brand_message(session, settings, thread, message, len(written.files))
    return message


def receive_sms(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID, text: str) -> Message:
    """An SMS from the person that is not a keyword: a message in their open thread with the
    brand, or in a new one."""
    written = Written(body=threads.clean_body(text, has_files=False))
    thread = threads.latest_open(session, person_id, brand_id)
    if thread is None:
        thread, message = threads.start_by_person(
            session, person_id, brand_id, None, written, via="sms"
        )
        return message
    return threads.add_person_message(session, thread, written, via="sms")


class TextReply(Protocol):
    """What the SMS inbound endpoint hands its reply handlers (`accord.sms.service.Reply`)."""

    @property
    def person_id(self) -> uuid.UUID: ...
    @property
    def brand_id(self) -> uuid.UUID: ...
    @property
    def text(self) -> str: ...


def sms_reply(session: Session, reply: TextReply) -> None:
    """The SMS endpoint's reply handler (wired by the composition root). A text that cannot
    become a message (an empty one; a relationship that has ended) stays only in the brand's
    record of inbound texts: the endpoint's work (and a STOP's withdrawal) is never undone."""
    try:
        with session.begin_nested():
            receive_sms(session, reply.person_id, reply.brand_id, reply.text)
    except AccordError as exc:
        log.info("SMS reply not added to a conversation: %s", exc.detail)


# Reading, for pages and the API.
for_person = threads.for_person
for_brand = threads.for_brand
messages = threads.messages
notes = threads.notes
attachments_of = threads.attachments_of
read_by_brand = threads.read_by_brand
read_by_person = threads.read_by_person
set_status = threads.set_status
assign = threads.assign
add_note = threads.add_note


def attachment_for_person(
    session: Session, person_id: uuid.UUID, attachment_id: uuid.UUID
) -> Attachment:
    return threads.attachment_for_person(session, person_id, attachment_id)


def attachment_for_brand(
    session: Session, brand_id: uuid.UUID, attachment_id: uuid.UUID
) -> Attachment:
    return threads.attachment_for_brand(session, brand_id, attachment_id)


def note(session: Session, thread: Thread, body: str, member_id: uuid.UUID | None) -> Note:
    return threads.add_note(session, thread, body, member_id)


def brand_may_answer_now(session: Session, thread: Thread) -> bool:
    """Whether the brand may still write in this thread (the relationship is not ended)."""
    try:
        threads.brand_may_answer(session, thread)
    except AccordError:
        return False
    return True


def message_page(
    session: Session, thread: Thread, *, cursor: str | None, limit: int
) -> tuple[Sequence[Message], str | None]:
    """A page of the thread's messages, newest first."""
    query = select(Message).where(Message.thread_id == thread.id)
    return paginate(
        session, query, created_at=Message.created_at, row_id=Message.id, cursor=cursor, limit=limit
    )


def person_thread_page(
    session: Session, person_id: uuid.UUID, *, cursor: str | None, limit: int
) -> tuple[Sequence[Thread], str | None]:
    """The person's threads, newest first."""
    query = select(Thread).where(Thread.person_id == person_id)
    return paginate(
        session, query, created_at=Thread.created_at, row_id=Thread.id, cursor=cursor, limit=limit
    )


saved_replies = saved.listing
create_saved_reply = saved.create
delete_saved_reply = saved.delete
